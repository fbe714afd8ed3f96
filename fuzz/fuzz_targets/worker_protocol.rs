//! Decodes arbitrary bytes as a framed worker request and as a framed
//! worker response. Decoding must return a value or an error and never
//! panic. libFuzzer's default 2 GiB RSS limit reports runaway allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sandbox_protocol::{Request, Response};

/// Payload limit for decoding: 1 MiB, far below the 128 MiB default, so
/// a length prefix cannot make the fuzzer allocate the default maximum.
const MAX_PAYLOAD_BYTES: usize = 1 << 20;

fuzz_target!(|frame: &[u8]| {
    let _ = sandbox_protocol::decode::<Request>(frame, MAX_PAYLOAD_BYTES);
    let _ = sandbox_protocol::decode::<Response>(frame, MAX_PAYLOAD_BYTES);
    let _ = sandbox_protocol::read_frame(&mut &frame[..], MAX_PAYLOAD_BYTES);
});
