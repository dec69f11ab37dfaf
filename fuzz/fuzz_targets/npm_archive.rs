#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = seedstr_fuzz::target("npm_archive").expect("a known target");
    target(data);
});
