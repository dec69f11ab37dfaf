//! `seedstr node`: everything in one process (relay, seeder, DHT node, registry views) with the
//! embedded defaults, or those of `seedstr.toml`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use seedstr_client::keys::store::{home, passphrase, KeyStore};
use seedstr_node::NodeConfig;

#[derive(Args)]
pub struct NodeArgs {
    /// The configuration file [default: seedstr.toml in the data folder, when it exists].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the configuration in effect (every default written out) and exit.
    #[arg(long)]
    print_config: bool,
    /// HTTP address: relay, API, registry views and web UI (overrides http.listen).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// TCP address for BitTorrent peers (overrides torrent.listen).
    #[arg(long)]
    torrent_listen: Option<SocketAddr>,
    /// DHT node to join through, host:port (repeatable; overrides dht.bootstrap).
    #[arg(long = "dht-bootstrap")]
    dht_bootstrap: Vec<String>,
    /// UDP address of the node's DHT node (overrides dht.listen); the first node of a
    /// private DHT listens on a known address and starts alone.
    #[arg(long)]
    dht_listen: Option<std::net::SocketAddrV4>,
    /// Run without the Mainline DHT (overrides dht.enabled).
    #[arg(long, conflicts_with_all = ["dht_bootstrap", "dht_listen"])]
    no_dht: bool,
    /// Be your home in the social network: unlock your key (SEEDSTR_PASSPHRASE, or asked on
    /// the terminal), keep your inbox and make your relay lists name this node (sets
    /// social.owner).
    #[arg(long)]
    owner: bool,
}

pub fn run(args: NodeArgs) -> Result<()> {
    let home = home();
    let config = config(&args, &home)?;
    if args.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    // The key is unlocked before anything starts, so a wrong passphrase stops here.
    let owner = if config.social.owner {
        let data = config.data_dir(&home);
        let pass = passphrase(false)?;
        let keys = KeyStore::new(&data).load(&pass)?;
        // The wallet connection, when the owner made one, serves their lightning address.
        let wallet = match seedstr_pay::connection::load_connection(&data, &pass) {
            Ok(uri) => Some(uri),
            Err(seedstr_pay::connection::ConnectionError::Missing) => None,
            Err(e) => return Err(e.into()),
        };
        Some(seedstr_node::Owner { keys, wallet })
    } else {
        None
    };
    let owner_line = owner
        .as_ref()
        .map(|k| seedstr_client::resolve::target::npub(&k.keys.public_key()));
    seedstr_relay::open_files::raise_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(seedstr_node::run(
        &home,
        config,
        owner,
        |a| {
            // Tests and scripts read the first line to find ephemeral ports.
            println!("seedstr node listening on http://{}", a.http);
            println!("  relay:   ws://{}/", a.http);
            println!(
                "  npm:     npm install --registry http://{}/npm/ <package>",
                a.http
            );
            println!("  cargo:   sparse+http://{}/cargo/index/", a.http);
            println!("  health:  http://{}/health", a.http);
            println!("  torrent: {}", a.torrent_listen);
            if let Some(dht) = a.dht {
                println!("  dht:     {dht}");
            }
            if let Some(npub) = &owner_line {
                println!("  owner:   {npub} (this node is their home)");
            }
        },
        crate::shutdown::signal("seedstr node"),
    ))?)
}

fn config(args: &NodeArgs, home: &std::path::Path) -> Result<NodeConfig> {
    let default_file = home.join("seedstr.toml");
    let mut config = match &args.config {
        Some(path) => NodeConfig::load(path)?,
        None if default_file.is_file() => NodeConfig::load(&default_file)?,
        None => NodeConfig::default(),
    };
    if let Some(l) = args.listen {
        config.http.listen = l;
    }
    if args.owner {
        config.social.owner = true;
    }
    if let Some(l) = args.torrent_listen {
        config.torrent.listen = l;
    }
    if let Some(l) = args.dht_listen {
        config.dht.listen = l;
    }
    if !args.dht_bootstrap.is_empty() {
        config.dht.bootstrap = args.dht_bootstrap.clone();
    }
    if args.no_dht {
        config.dht.enabled = false;
    }
    Ok(config)
}
