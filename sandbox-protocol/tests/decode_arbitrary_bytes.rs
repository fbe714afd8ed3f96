//! Decoding arbitrary bytes returns an error and never panics: the seeds
//! below are the ones the `worker_protocol` fuzz target starts from (see
//! `fuzz/README.md`), plus every truncation and single-bit flip of a valid
//! request frame.

use sandbox_protocol::{
    GuestLimits, NoteContent, PluginCode, ProcessLimits, Request, Response, RunRequest,
};

const MAX_PAYLOAD_BYTES: usize = 1 << 20;

fn valid_request_frame() -> Vec<u8> {
    let request = Request::Run(RunRequest {
        process: ProcessLimits::default(),
        guest: GuestLimits::default(),
        plugin: PluginCode::Component(b"\0asm\x0d\0\x01\0".to_vec()),
        args: "null".to_owned(),
        note: NoteContent {
            title: "title".to_owned(),
            body: "body".to_owned(),
        },
    });
    sandbox_protocol::encode(&request, MAX_PAYLOAD_BYTES)
        .expect("the request encodes")
        .to_vec()
}

/// Deterministic pseudo-random bytes (xorshift64), so failures reproduce.
fn pseudo_random_bytes(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn decode_all_ways(frame: &[u8]) {
    let _ = sandbox_protocol::decode::<Request>(frame, MAX_PAYLOAD_BYTES);
    let _ = sandbox_protocol::decode::<Response>(frame, MAX_PAYLOAD_BYTES);
    let _ = sandbox_protocol::read_frame(&mut &frame[..], MAX_PAYLOAD_BYTES);
}

#[test]
fn fixed_seeds_never_panic() {
    let seeds: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0],
        vec![0xFF; 16],
        // A length prefix of 4 GiB - 1 with no payload behind it.
        vec![0xFF, 0xFF, 0xFF, 0xFF],
        pseudo_random_bytes(1, 64),
        pseudo_random_bytes(2, 4096),
    ];
    for seed in &seeds {
        decode_all_ways(seed);
    }
}

#[test]
fn truncated_frames_are_rejected() {
    let frame = valid_request_frame();
    assert!(sandbox_protocol::decode::<Request>(&frame, MAX_PAYLOAD_BYTES).is_ok());

    for length in 0..frame.len() {
        let truncated = &frame[..length];
        decode_all_ways(truncated);
        assert!(
            sandbox_protocol::decode::<Request>(truncated, MAX_PAYLOAD_BYTES).is_err(),
            "a frame cut to {length} bytes decoded"
        );
    }
}

#[test]
fn bit_flipped_frames_never_panic() {
    let frame = valid_request_frame();
    for index in 0..frame.len() {
        for bit in 0..8 {
            let mut flipped = frame.clone();
            flipped[index] ^= 1 << bit;
            decode_all_ways(&flipped);
        }
    }
}
