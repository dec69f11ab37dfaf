#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("channel_claim").expect("a known target");
    target(data);
});
