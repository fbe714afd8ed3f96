//! The precompiled-code cache: authentic artifacts come back, anything
//! altered, moved or made under another key is deleted and reported.

use std::fs;

use plugin_registry::{ArtifactCache, ArtifactMacKey, Lookup, PluginDigest};
use zeroize::Zeroizing;

const FINGERPRINT: &str = "wasmtime-48.0.10/test-config";

fn key(byte: u8) -> ArtifactMacKey {
    ArtifactMacKey::new(Zeroizing::new([byte; 32]))
}

fn open(root: &std::path::Path, fingerprint: &str, key_byte: u8) -> ArtifactCache {
    ArtifactCache::open(root, fingerprint, key(key_byte)).expect("cache opens")
}

#[test]
fn stored_artifact_is_returned() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1);
    let digest = PluginDigest::of(b"component");

    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Miss));
    cache.put(&digest, b"native code").expect("put");

    match cache.get(&digest).expect("get") {
        Lookup::Hit(artifact) => assert_eq!(artifact, b"native code"),
        other => panic!("expected a hit, got {other:?}"),
    }
}

#[test]
fn flipped_byte_is_detected_and_file_deleted() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1);
    let digest = PluginDigest::of(b"component");
    cache.put(&digest, b"native code").expect("put");

    let path = cache.path_of(&digest);
    let mut contents = fs::read(&path).expect("read");
    let last = contents.len() - 1;
    contents[last] ^= 0x01;
    fs::write(&path, contents).expect("write");

    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Tampered));
    assert!(!path.exists(), "tampered file is deleted");
    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Miss));
}

#[test]
fn artifact_copied_to_another_plugin_is_rejected() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1);
    let benign = PluginDigest::of(b"benign");
    let other = PluginDigest::of(b"other");
    cache.put(&benign, b"benign code").expect("put");

    fs::copy(cache.path_of(&benign), cache.path_of(&other)).expect("copy");
    assert!(matches!(cache.get(&other).expect("get"), Lookup::Tampered));
}

#[test]
fn artifact_written_under_another_key_is_rejected() {
    let root = tempfile::tempdir().expect("temp dir");
    let digest = PluginDigest::of(b"component");
    open(root.path(), FINGERPRINT, 1)
        .put(&digest, b"native code")
        .expect("put");

    let cache = open(root.path(), FINGERPRINT, 2);
    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Tampered));
}

#[test]
fn other_engine_fingerprint_does_not_see_the_artifact() {
    let root = tempfile::tempdir().expect("temp dir");
    let digest = PluginDigest::of(b"component");
    open(root.path(), FINGERPRINT, 1)
        .put(&digest, b"native code")
        .expect("put");

    let cache = open(root.path(), "wasmtime-49.0.0/test-config", 1);
    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Miss));
}

#[test]
fn truncated_file_is_rejected() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1);
    let digest = PluginDigest::of(b"component");
    cache.put(&digest, b"native code").expect("put");
    fs::write(cache.path_of(&digest), b"SNCWASM1").expect("write");

    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Tampered));
}

#[test]
fn oversized_artifact_is_not_stored() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1).with_max_artifact_bytes(4);
    let digest = PluginDigest::of(b"component");
    assert!(cache.put(&digest, b"too long").is_err());
    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Miss));
}

#[test]
fn removed_cache_folder_is_recreated_on_put() {
    let root = tempfile::tempdir().expect("temp dir");
    let cache = open(root.path(), FINGERPRINT, 1);
    let digest = PluginDigest::of(b"component");
    fs::remove_dir_all(root.path()).expect("remove the cache");

    cache
        .put(&digest, b"native code")
        .expect("put recreates the folder");
    assert!(matches!(cache.get(&digest).expect("get"), Lookup::Hit(_)));
}
