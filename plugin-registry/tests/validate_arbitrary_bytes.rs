//! Validating arbitrary bytes rejects them and never panics: the seeds
//! below are the ones the `upload_validator` fuzz target starts from (see
//! `fuzz/README.md`), plus truncations and single-bit flips of a valid
//! plugin component.

use plugin_registry::{PLUGIN_WIT, UploadLimits, validate};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

fn plugin_component() -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_str("plugin.wit", PLUGIN_WIT)
        .expect("the plugin WIT parses");
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("the plugin world exists");
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("metadata embeds");
    ComponentEncoder::default()
        .module(&module)
        .expect("module accepted")
        .validate(true)
        .encode()
        .expect("component encodes")
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

#[test]
fn fixed_seeds_are_rejected() {
    let mut component_header = b"\0asm\x0d\0\x01\0".to_vec();
    component_header.extend(pseudo_random_bytes(3, 256));
    let seeds: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\0asm".to_vec(),
        b"\0asm\x01\0\0\0".to_vec(),
        component_header,
        pseudo_random_bytes(1, 64),
        pseudo_random_bytes(2, 4096),
    ];
    for (index, seed) in seeds.iter().enumerate() {
        assert!(
            validate(seed, &UploadLimits::default()).is_err(),
            "seed {index} was accepted"
        );
    }
}

/// Cuts inside a section are rejected. A cut at a section boundary can
/// leave a valid component (for example one without its trailing custom
/// sections), so those only need to validate without panicking.
#[test]
fn truncated_components_never_panic() {
    let component = plugin_component();
    assert!(validate(&component, &UploadLimits::default()).is_ok());

    for length in 0..component.len() {
        let _ = validate(&component[..length], &UploadLimits::default());
    }
    for length in [0, 4, 8, 9, component.len() / 2] {
        assert!(
            validate(&component[..length], &UploadLimits::default()).is_err(),
            "a component cut to {length} bytes was accepted"
        );
    }
}

#[test]
fn bit_flipped_components_never_panic() {
    let component = plugin_component();
    for index in 0..component.len() {
        for bit in [0, 3, 7] {
            let mut flipped = component.clone();
            flipped[index] ^= 1 << bit;
            let _ = validate(&flipped, &UploadLimits::default());
        }
    }
}
