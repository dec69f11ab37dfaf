//! Replays the committed corpus (`fuzz/corpus/<target>/`) through every fuzz target: what the
//! fuzzer found once (crashes are saved into the corpus after they are fixed) stays fixed, and
//! every target runs on every build, fast, without a fuzzing toolchain.

use std::path::PathBuf;

fn corpus() -> PathBuf {
    seedstr_testkit::workspace_root()
        .join("crates/fuzz")
        .join("../../fuzz/corpus")
}

#[test]
fn every_target_runs_its_whole_corpus() {
    let mut total = 0;
    for (name, target) in seedstr_fuzz::TARGETS {
        let dir = corpus().join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{name} has no corpus at {}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            // A panic names the input that caused it.
            let outcome = std::panic::catch_unwind(|| target(&input));
            assert!(outcome.is_ok(), "{name} panicked on {}", path.display());
            count += 1;
        }
        assert!(count > 0, "{name}'s corpus is empty");
        total += count;
    }
    eprintln!("{total} inputs replayed");
}

#[test]
fn every_target_has_a_libfuzzer_wrapper() {
    let targets = seedstr_testkit::workspace_root()
        .join("crates/fuzz")
        .join("../../fuzz/fuzz_targets");
    for (name, _) in seedstr_fuzz::TARGETS {
        let file = targets.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{} is missing: {e}", file.display()));
        assert!(
            text.contains(&format!("seedstr_fuzz::target(\"{name}\")")),
            "{} does not call its target",
            file.display()
        );
    }
}
