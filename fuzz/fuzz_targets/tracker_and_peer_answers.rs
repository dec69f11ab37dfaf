#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("tracker_and_peer_answers").expect("a known target");
    target(data);
});
