#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("peer_reputation").expect("a known target");
    target(data);
});
