//! Crash injection, so tests can stop a transaction at each of its steps in turn.
//!
//! A kill sent at a random moment rarely lands inside a commit that lasts a millisecond; a
//! transaction that counts its file-system steps can be stopped at every one of them. Tests set
//! [`CRASH_AT_STEP_VAR`] on a real `seedstr` process, which then aborts (no destructor, no
//! rollback, as `kill -9` would) at that step; unit tests stop with a panic instead and call
//! recovery themselves. Without the variable a step is one counter increment.

/// The environment variable that makes a transaction abort the process at its Nth step
/// (counted from 1). For crash tests only; `docs/security.md` describes them.
pub const CRASH_AT_STEP_VAR: &str = "SEEDSTR_CRASH_AT_STEP";

/// How a transaction stops at the chosen step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// `std::process::abort`: the process dies where it stands.
    Abort,
    /// A panic, caught by the unit test that asked for it.
    Panic,
}

/// Counts a transaction's steps and stops it at one of them when a test asks.
#[derive(Debug, Clone)]
pub struct CrashPoints {
    stop_at: Option<u64>,
    stop: Stop,
    reached: u64,
}

impl CrashPoints {
    /// Never stops; only counts.
    pub fn none() -> Self {
        Self {
            stop_at: None,
            stop: Stop::Abort,
            reached: 0,
        }
    }

    /// Aborts the process at the step [`CRASH_AT_STEP_VAR`] names, if it is set.
    pub fn from_env() -> Self {
        Self {
            stop_at: std::env::var(CRASH_AT_STEP_VAR)
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            ..Self::none()
        }
    }

    /// Panics at step `n` (for tests that catch the panic and then recover in-process).
    pub fn panic_at(n: u64) -> Self {
        Self {
            stop_at: Some(n),
            stop: Stop::Panic,
            reached: 0,
        }
    }

    /// Runs `work` stopped at its first step, then its second, and so on, each time in a panic
    /// caught here, until a run completes; returns how many runs were stopped. For tests of
    /// work that must end whole wherever it is stopped and however often (a recovery).
    pub fn stop_at_each_step_until_done(mut work: impl FnMut(&mut CrashPoints)) -> u64 {
        for n in 1.. {
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                work(&mut CrashPoints::panic_at(n))
            }));
            match run {
                Ok(()) => return n - 1,
                Err(payload) => {
                    // Any other panic is the test failing: pass it on.
                    let injected = payload
                        .downcast_ref::<String>()
                        .is_some_and(|m| m.starts_with("crash injected"));
                    if !injected {
                        std::panic::resume_unwind(payload);
                    }
                }
            }
        }
        unreachable!("the steps of one run are finite")
    }

    /// Marks the start of a step that changes the disk; `what` names it in the crash message.
    pub fn step(&mut self, what: &str) {
        self.reached += 1;
        if self.stop_at == Some(self.reached) {
            match self.stop {
                Stop::Abort => {
                    eprintln!("crash injected at step {} ({what})", self.reached);
                    std::process::abort();
                }
                Stop::Panic => panic!("crash injected at step {} ({what})", self.reached),
            }
        }
    }

    /// How many steps were reached so far.
    pub fn reached(&self) -> u64 {
        self.reached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_steps_and_stops_only_at_the_chosen_one() {
        let mut points = CrashPoints::none();
        for _ in 0..5 {
            points.step("a step");
        }
        assert_eq!(points.reached(), 5);
        let stopped = std::panic::catch_unwind(|| {
            let mut points = CrashPoints::panic_at(3);
            points.step("one");
            points.step("two");
            points.step("three");
            unreachable!("step three stops");
        });
        let message = stopped.unwrap_err();
        let message = message.downcast_ref::<String>().unwrap();
        assert_eq!(message, "crash injected at step 3 (three)");
    }
}
