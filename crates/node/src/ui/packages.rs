//! The package page: versions as installs see them, who may publish, what it needs and what
//! needs it.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use seedstr_client::display::human_bytes;

use super::pages::{incident_banners, n, s};
use super::{author_link, date, error_page, page, short};
use crate::api::package::package_view;
use crate::api::ApiState;

/// Where the package page of `name` in `ns` lives (scoped npm names keep their slash).
pub(super) fn package_link(ns: &str, name: &str) -> String {
    format!("/pkg/{ns}/{name}")
}

/// `GET /pkg/<ns>/<name>`.
pub async fn package(
    State(state): State<Arc<ApiState>>,
    Path((ns, name)): Path<(String, String)>,
) -> Response {
    let p = match package_view(&state, &ns, &name).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let name = s(&p["name"]).to_owned();
    let versions = p["versions"].as_array().cloned().unwrap_or_default();
    let install = match ns.as_str() {
        "npm" => format!("seedstr pkg install {name}"),
        _ => format!(
            "{name} = \"{}\"  # in Cargo.toml, with the node's index as a source",
            p["latest"].as_str().unwrap_or("*")
        ),
    };
    let body = html! {
        (incident_banners(&p["incidents"]))
        @if let Some(why) = p["check_error"].as_str() {
            div.banner.warning role="alert" {
                strong { "Not checked against a publisher registry: " (why) }
                " " span.muted { "The versions below are shown as signed, but installs would refuse them until a trusted registry maps their publisher." }
            }
        }
        h1 { (name)
            @if let Some(latest) = p["latest"].as_str() { " " span.muted { (latest) } }
        }
        p.meta { span.badge.info { (ns) } " package" }
        pre.text.install { (install) }
        h2 { "Publishers" }
        @let publishers = p["publishers"].as_array().cloned().unwrap_or_default();
        @if publishers.is_empty() {
            p.muted { "No trusted registry names a publisher for this package." }
        }
        ul.publishers {
            @for k in &publishers {
                li {
                    a href=(author_link(s(&k["key"]))) { code { (short(s(&k["key"]))) } }
                    @let by = k["mapped_by"].as_array().cloned().unwrap_or_default();
                    @if !by.is_empty() {
                        " " span.muted { "mapped by " @for r in &by { code { (short(s(r))) } " " } }
                    }
                }
            }
        }
        h2 { "Versions" }
        @if versions.is_empty() { p.muted { "No version can be installed." } }
        table.versions {
            thead { tr { th { "Version" } th { "Publisher" } th { "Published" } th { "Size" } th { "Integrity" } } }
            tbody {
                @for v in &versions {
                    tr {
                        td { a href=(format!("/r/{}", s(&v["release"]))) { (s(&v["version"])) } }
                        td { code { (short(s(&v["signer"]))) } }
                        td { (date(n(&v["published_at"]))) }
                        td { (human_bytes(n(&v["size"]))) }
                        td.hash { (short(s(&v["integrity"]))) }
                    }
                }
            }
        }
        @let refused = p["refused"].as_array().cloned().unwrap_or_default();
        @if !refused.is_empty() {
            h2 { "Refused" }
            ul.refused { @for r in &refused { li { code { (s(&r["spec"])) } ": " (s(&r["why"])) } } }
        }
        h2 { "Dependencies" }
        @let deps = p["dependencies"].as_array().cloned().unwrap_or_default();
        @if deps.is_empty() { p.muted { "None." } }
        ul.dependencies {
            @for d in &deps {
                li { a href=(package_link(&ns, s(&d["name"]))) { (s(&d["name"])) } " " code { (s(&d["range"])) }
                     @if s(&d["kind"]) != "normal" { " " span.muted { "(" (s(&d["kind"])) ")" } } }
            }
        }
        h2 { "Dependents" }
        @let dependents = p["dependents"].as_array().cloned().unwrap_or_default();
        @if dependents.is_empty() { p.muted { "No package this node holds depends on it." } }
        ul.dependents {
            @for d in &dependents {
                li { a href=(package_link(&ns, s(&d["name"]))) { (s(&d["name"])) } " " (s(&d["version"]))
                     " needs " code { (s(&d["range"])) } }
            }
        }
    };
    page(&name, "", body).into_response()
}
