//! The plugin registry: what the gateway checks and keeps about an uploaded
//! plugin before any of its code runs.
//!
//! - [`validate`] inspects the bytes of an upload with parsers that cannot
//!   execute anything: size, WebAssembly validity, that it is a component (not
//!   a core module), that it imports nothing but the plugin world's `host`
//!   interface, and that it exports `run` with the world's signature.
//! - [`PluginDigest`] is a plugin's identity: the SHA-256 of its bytes.
//! - [`ArtifactCache`] keeps precompiled native code on local disk, keyed by
//!   digest and engine fingerprint, and authenticates every artifact with a MAC
//!   because loading precompiled code amounts to running native code.

mod artifact_cache;
mod digest;
mod validate;
mod world;

pub use artifact_cache::{ArtifactCache, ArtifactCacheError, ArtifactMacKey, Lookup};
pub use digest::{InvalidDigest, PluginDigest};
pub use validate::{Rejection, Rule, UploadLimits, ValidatedComponent, validate};
pub use world::PLUGIN_WIT;
