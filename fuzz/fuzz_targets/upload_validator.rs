//! Validates arbitrary bytes as a plugin upload with the default limits.
//! Validation must accept or reject, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_registry::UploadLimits;

fuzz_target!(|upload: &[u8]| {
    let _ = plugin_registry::validate(upload, &UploadLimits::default());
});
