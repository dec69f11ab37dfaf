//! File work (hashing, renames, fsyncs, unpacking) run off the async runtime, so one install
//! or download never stalls the other tasks of a node: a runtime thread waits for no disk.

/// Runs `work` on the blocking pool and waits for it; a panic in it resumes here.
pub async fn off_runtime<T, F>(work: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only a runtime shutting down cancels blocking work.
        Err(e) => panic!("blocking file work was cancelled: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a one-thread runtime, a task keeps running while the file work waits.
    #[tokio::test(flavor = "current_thread")]
    async fn the_runtime_keeps_running_while_file_work_waits() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (ticked_tx, ticked_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let _ = ticked_tx.send(());
        });
        let work = off_runtime(move || rx.recv().is_ok());
        let release = async move {
            // The other task ran although the work has not finished: then let it finish.
            ticked_rx.await.unwrap();
            tx.send(()).unwrap();
        };
        let (done, ()) = tokio::join!(work, release);
        assert!(done);
    }
}
