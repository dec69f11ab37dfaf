//! Where a node looks for the DHT, in order: the nodes it knew when it last ran (see
//! [`crate::routing_cache`]), then its configured bootstrap nodes, then the public routers.
//! Each source but the last is tried with a short-lived probe node; the node itself then
//! starts with the first source that answered (or the last, which it keeps asking).

use std::net::SocketAddrV4;

use crate::node::{DhtNode, DhtOptions};

/// A source of nodes to join through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BootstrapSource {
    /// The routing table kept from the previous run.
    CachedNodes,
    /// The bootstrap nodes the configuration names.
    Configured,
    /// The library's public routers (router.bittorrent.com and others).
    PublicRouters,
    /// None: the first node of a private DHT, waiting for others to join through it.
    Nobody,
}

/// One source tried.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Tried {
    /// The source.
    pub source: BootstrapSource,
    /// How many nodes it named (0 for the public routers: the library's list).
    pub nodes: usize,
    /// Whether any of them answered. `None` for the source the node started with without a
    /// probe (the last, or the only one): the node's own state says.
    pub answered: Option<bool>,
}

/// The order of sources for a start.
#[derive(Debug, Clone)]
pub struct JoinPlan {
    stages: Vec<(BootstrapSource, Option<Vec<String>>)>,
}

impl JoinPlan {
    /// The sources for a node started with `opts` that kept `cached` from its last run. The
    /// public routers come last when the configuration does not rule them out: a configured
    /// list of loopback nodes is a test network, and `none` the first node of a private one.
    pub fn new(cached: &[SocketAddrV4], opts: &DhtOptions) -> JoinPlan {
        let mut stages = Vec::new();
        if !cached.is_empty() {
            let nodes = cached.iter().map(ToString::to_string).collect();
            stages.push((BootstrapSource::CachedNodes, Some(nodes)));
        }
        match &opts.bootstrap {
            None => stages.push((BootstrapSource::PublicRouters, None)),
            Some(nodes) if nodes.is_empty() => {
                stages.push((BootstrapSource::Nobody, Some(Vec::new())))
            }
            Some(nodes) => {
                stages.push((BootstrapSource::Configured, Some(nodes.clone())));
                if !opts.loopback {
                    stages.push((BootstrapSource::PublicRouters, None));
                }
            }
        }
        JoinPlan { stages }
    }

    /// The sources, in order.
    pub fn sources(&self) -> Vec<BootstrapSource> {
        self.stages.iter().map(|(s, _)| *s).collect()
    }

    /// Tries each source but the last with a probe node (bound like `opts`, on any port) until
    /// one answers: `opts` joining through that source (or the last), which source, and what
    /// was tried.
    pub async fn choose(&self, opts: &DhtOptions) -> (DhtOptions, BootstrapSource, Vec<Tried>) {
        let mut tried = Vec::new();
        let last = self.stages.len() - 1;
        for (i, (source, nodes)) in self.stages.iter().enumerate() {
            let with = DhtOptions {
                bootstrap: nodes.clone(),
                ..opts.clone()
            };
            let named = nodes.as_ref().map_or(0, Vec::len);
            if i == last {
                tried.push(Tried {
                    source: *source,
                    nodes: named,
                    answered: None,
                });
                return (with, *source, tried);
            }
            let probe_opts = DhtOptions {
                port: None,
                server: false,
                ..with.clone()
            };
            let answered = match DhtNode::start(&probe_opts) {
                Ok(probe) => probe.bootstrapped().await,
                Err(e) => {
                    tracing::warn!("a DHT probe node could not start: {e}");
                    false
                }
            };
            tried.push(Tried {
                source: *source,
                nodes: named,
                answered: Some(answered),
            });
            if answered {
                return (with, *source, tried);
            }
        }
        unreachable!("a plan has at least one source")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_nodes_come_first_and_public_routers_last_unless_ruled_out() {
        let cached: Vec<SocketAddrV4> = vec!["10.0.0.1:6881".parse().unwrap()];
        let public = DhtOptions::joining(&[]);
        assert_eq!(
            JoinPlan::new(&cached, &public).sources(),
            [BootstrapSource::CachedNodes, BootstrapSource::PublicRouters]
        );
        assert_eq!(
            JoinPlan::new(&[], &public).sources(),
            [BootstrapSource::PublicRouters]
        );
        let configured = DhtOptions::joining(&["dht.example.org:6881".into()]);
        assert_eq!(
            JoinPlan::new(&cached, &configured).sources(),
            [
                BootstrapSource::CachedNodes,
                BootstrapSource::Configured,
                BootstrapSource::PublicRouters
            ]
        );
        let test_network = DhtOptions::joining(&["127.0.0.1:7000".into()]);
        assert_eq!(
            JoinPlan::new(&cached, &test_network).sources(),
            [BootstrapSource::CachedNodes, BootstrapSource::Configured]
        );
        let first_node = DhtOptions::joining(&["none".into()]);
        assert_eq!(
            JoinPlan::new(&cached, &first_node).sources(),
            [BootstrapSource::CachedNodes, BootstrapSource::Nobody]
        );
    }
}
