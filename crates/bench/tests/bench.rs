//! The load generator against the real relay, small: it must complete every phase, with every
//! event acknowledged and every fan-out delivery arriving, and report each figure. Its speed
//! is not asserted here; that is what running it is for.

use std::process::Command;

use serde_json::Value;

/// Our relay on an ephemeral loopback port, in a thread of its own, with no rate limits (as
/// the benchmark asks); it stops when the test process ends.
fn start_relay(data: &std::path::Path) -> String {
    let store = seedstr_store::lmdb::LmdbStore::open(data).expect("open the store");
    let mut config = seedstr_relay::RelayConfig::default();
    config.rate.events_per_ip_per_second = 0.0;
    config.rate.events_per_pubkey_per_second = 0.0;
    config.rate.reqs_per_ip_per_second = 0.0;
    let addr = seedstr_relay::Relay::serve_on_loopback(config, store).unwrap();
    format!("ws://{addr}")
}

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seedstr-bench"))
}

#[test]
fn bench_relay_completes_every_phase() {
    let dir = tempfile::tempdir().unwrap();
    let url = start_relay(dir.path());
    let out = bench()
        .args(["relay", &url, "--json"])
        .args(
            "--events 2000 --latency-events 300 --rate 1000 --queries 10 --scan-window-secs 0"
                .split(' '),
        )
        .args("--subscribers 40 --fanout-events 5 --fanout-interval-ms 5".split(' '))
        .args(["--verify-samples", "500"])
        .output()
        .expect("run seedstr-bench");
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(r["ingest"]["events"], 2000);
    assert_eq!(r["ingest"]["rejected"], 0);
    assert!(r["ingest"]["events_per_sec"].as_f64().unwrap() > 0.0);
    assert!(r["verify"]["signatures_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(r["ingest"]["into_empty"]["events"], 200);
    assert_eq!(r["ingest"]["into_full"]["events"], 200);
    assert!(r["ingest"]["into_full"]["events_per_sec"].as_f64().unwrap() > 0.0);
    assert_eq!(r["ok_latency"]["events"], 300);
    assert_eq!(r["ok_latency"]["latency"]["samples"], 300);
    let queries = r["queries"].as_array().unwrap();
    // Three filter shapes, then four NIP-50 searches (our relay answers them).
    assert_eq!(queries.len(), 7);
    for q in queries {
        assert_eq!(q["latency"]["samples"], 10, "{q}");
    }
    for q in &queries[..3] {
        assert!(q["mean_events"].as_f64().unwrap() > 0.0, "{q}");
    }
    let common = queries
        .iter()
        .find(|q| q["filter"] == "search common")
        .unwrap();
    assert_eq!(common["mean_events"], 20.0, "{common}");
    let under_scans = r["query_under_scans"].as_array().unwrap();
    assert_eq!(under_scans.len(), 2);
    for q in under_scans {
        assert_eq!(q["latency"]["samples"], 10, "{q}");
        assert_eq!(q["heavy_refused"], 0, "{q}");
    }
    assert_eq!(r["fanout"]["subscribers"], 40);
    assert_eq!(r["fanout"]["missing"], 0);
    assert_eq!(r["fanout"]["delivery"]["samples"], 200);
}

#[test]
fn bench_names_a_bad_url() {
    let out = bench()
        .args(["relay", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a ws:// or wss:// URL"), "{err}");
}

#[test]
fn bench_web_times_every_page_over_a_filled_store() {
    let out = bench()
        .args(["web", "--projects", "60", "--requests", "4", "--json"])
        .output()
        .expect("run seedstr-bench web");
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(r["events"], 120);
    let pages = r["pages"].as_object().unwrap();
    assert_eq!(pages.len(), 8, "{r}");
    for (name, page) in pages {
        assert_eq!(page["samples"], 4, "{name}: {page}");
        assert!(page["bytes"].as_u64().unwrap() > 0, "{name}: {page}");
    }
    // The search for a word a project name holds found some: its page is more than a shell.
    let search = &pages["search API"];
    assert!(search["bytes"].as_u64().unwrap() > 100, "{search}");
}

#[test]
fn the_dht_benchmark_reports_every_lookup() {
    let out = bench()
        .args(["dht", "--nodes", "20", "--lookups", "3", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    for line in ["first_verified", "newest", "complete"] {
        assert_eq!(report[line]["samples"], 3, "{report}");
    }
}

#[test]
fn the_transfer_benchmark_installs_through_a_real_seeder() {
    let out = bench()
        .args(["transfer", "--size-mib", "4", "--no-libtorrent", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["size_bytes"], 4 << 20, "{report}");
    let install = &report["seedstr_install"];
    assert!(install["seconds"].as_f64().unwrap() > 0.0, "{report}");
    let phases: Vec<&str> = install["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        phases.iter().any(|p| p.starts_with("fetched at")),
        "{phases:?}"
    );
    assert!(report["libtorrent_pair"].is_null(), "{report}");
}

#[test]
fn the_transfer_benchmark_names_a_missing_seedstr_binary() {
    let out = bench()
        .args([
            "transfer",
            "--size-mib",
            "1",
            "--seedstr",
            "/nonexistent/seedstr",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/seedstr"), "{err}");
}

#[test]
fn the_ilp_benchmark_counts_every_packet_and_byte() {
    let out = bench()
        .args([
            "ilp",
            "--packets",
            "20",
            "--bytes",
            "100000",
            "--claims",
            "30",
            "--events",
            "5",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["round_trip"]["samples"], 20, "{report}");
    assert_eq!(report["data_bytes"], 100_000, "{report}");
    assert_eq!(report["claim_check"]["samples"], 30, "{report}");
    assert_eq!(report["paid_event"]["samples"], 5, "{report}");
    assert_eq!(report["units_per_event"], 1, "{report}");
}

#[test]
fn the_registry_benchmark_installs_one_tree_through_the_view_and_verdaccio() {
    let out = bench()
        .args(["registry", "--packages", "3", "--runs", "1", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["packages"], 3, "{report}");
    for side in [
        "verdaccio",
        "view_archives_held",
        "view_archives_from_swarm",
    ] {
        assert!(
            report[side]["median_ms"].as_f64().unwrap() > 0.0,
            "{report}"
        );
    }
    for side in ["view_archives_held", "verdaccio"] {
        let latency = &report["request_latency"][side];
        assert!(
            latency["archive_p50_ms"].as_f64().unwrap() > 0.0,
            "{report}"
        );
    }
    // A warm install asks for every packument again and gets 304s, from both servers.
    for warm in ["view_warm", "verdaccio_warm"] {
        assert_eq!(report[warm]["packuments_revalidated"], 3, "{report}");
        assert_eq!(report[warm]["packuments_fetched"], 0, "{report}");
    }
}
