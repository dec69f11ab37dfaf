//! The signals that stop a long-running command cleanly.

/// Resolves on Ctrl-C or on SIGTERM (a service manager's stop), saying `who` is stopping.
pub(crate) async fn signal(who: &'static str) {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("{who}: stopping");
}
