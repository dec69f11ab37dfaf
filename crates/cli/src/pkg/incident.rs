//! `seedstr pkg incident`: the publisher says which versions of a package are unsafe; installs
//! and the registry views then refuse them.

use anyhow::{anyhow, Result};
use clap::Args;
use seedstr_pkg::{Ecosystem, PackageName};

use crate::incident::{sign_incident_cmd, IncidentFields};

#[derive(Args)]
pub struct IncidentArgs {
    /// The package name, as its ecosystem spells it.
    name: String,
    /// npm or cargo.
    #[arg(long, default_value = "npm")]
    ns: String,
    #[command(flatten)]
    incident: IncidentFields,
}

pub fn run(a: IncidentArgs) -> Result<()> {
    let ecosystem = Ecosystem::parse(&a.ns)
        .ok_or_else(|| anyhow!("--ns {:?}: packages are npm or cargo", a.ns))?;
    let name = PackageName::parse(ecosystem, &a.name)?;
    sign_incident_cmd(None, &name.coordinate(), &a.incident)
}
