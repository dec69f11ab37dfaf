#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("private_message").expect("a known target");
    target(data);
});
