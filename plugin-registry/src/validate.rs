//! Upload validation: every rule an uploaded plugin must pass before it is
//! stored, checked with parsers that cannot execute anything.
//!
//! The rules run in order and the first one that fails is reported:
//!
//! 1. [`Rule::TooLarge`]: the upload is at most [`UploadLimits::max_bytes`].
//! 2. [`Rule::NotWasm`] and [`Rule::CoreModule`]: the bytes start with the
//!    WebAssembly component header, not a core module's.
//! 3. [`Rule::StructureLimit`]: counts that drive compile time (core
//!    functions, locals per function, nested modules) are within limits,
//!    because the compiler is fed this input next.
//! 4. [`Rule::InvalidComponent`]: the component validates with `wasmparser`.
//! 5. [`Rule::ForbiddenImport`], [`Rule::ImportSignature`]: it imports only
//!    functions of the plugin world's `host` interface, with their declared
//!    signatures. Asking for WASI, or anything else, names the import.
//! 6. [`Rule::MissingRun`], [`Rule::RunSignature`], [`Rule::UnexpectedExport`]:
//!    it exports `run` with the world's signature and nothing else.
//!
//! Validation does not bound the CPU time of compilation: compiling happens in
//! a sandboxed worker under its own limits.

use std::panic::{AssertUnwindSafe, catch_unwind};

use wasmparser::{Parser, Payload, Validator, WasmFeatures};
use wit_parser::decoding::{DecodedWasm, decode};

use crate::digest::PluginDigest;
use crate::world;

/// Limits applied to an upload before and during parsing.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// Maximum size of the component in bytes. Default 10 MiB.
    pub max_bytes: usize,
    /// Maximum number of core function bodies across all nested modules.
    /// Default 20,000, several times what a plugin using `serde_json` needs.
    pub max_core_functions: u32,
    /// Maximum number of locals declared by one function. Default 5,000.
    pub max_locals_per_function: u32,
    /// Maximum number of core modules and components nested inside the
    /// upload. Default 16.
    pub max_nested_modules: u32,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_core_functions: 20_000,
            max_locals_per_function: 5_000,
            max_nested_modules: 16,
        }
    }
}

/// The validation rule an upload failed. [`Rule::as_str`] is a stable
/// snake_case name for problem responses and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The upload exceeds the size limit.
    TooLarge,
    /// The bytes are not WebAssembly at all.
    NotWasm,
    /// The bytes are a core WebAssembly module, not a component.
    CoreModule,
    /// A structural count is above its limit.
    StructureLimit,
    /// The component does not validate.
    InvalidComponent,
    /// The component imports something outside the host interface.
    ForbiddenImport,
    /// A host function is imported with a signature other than the world's.
    ImportSignature,
    /// The component has no `run` export.
    MissingRun,
    /// `run` is exported with a signature other than the world's.
    RunSignature,
    /// The component exports something besides `run`.
    UnexpectedExport,
}

impl Rule {
    /// Stable snake_case name of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::TooLarge => "too_large",
            Rule::NotWasm => "not_wasm",
            Rule::CoreModule => "core_module",
            Rule::StructureLimit => "structure_limit",
            Rule::InvalidComponent => "invalid_component",
            Rule::ForbiddenImport => "forbidden_import",
            Rule::ImportSignature => "import_signature",
            Rule::MissingRun => "missing_run_export",
            Rule::RunSignature => "run_signature",
            Rule::UnexpectedExport => "unexpected_export",
        }
    }
}

/// Why an upload was rejected: the rule and a message for the uploader.
///
/// The message names the offending item (an import or export name, a count
/// and its limit) and never carries parser internals beyond the parser's own
/// one-line description of invalid bytes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// The rule that failed.
    pub rule: Rule,
    /// What failed, for the uploader.
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(rule: Rule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }
}

/// An upload that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidatedComponent {
    /// SHA-256 of the bytes: the plugin's identity.
    pub digest: PluginDigest,
    /// Size of the component in bytes.
    pub size_bytes: usize,
}

/// Checks `bytes` against every upload rule and returns the plugin's digest.
///
/// # Errors
///
/// The first rule that fails, as a [`Rejection`].
pub fn validate(bytes: &[u8], limits: &UploadLimits) -> Result<ValidatedComponent, Rejection> {
    if bytes.len() > limits.max_bytes {
        return Err(Rejection::new(
            Rule::TooLarge,
            format!(
                "the plugin is {} bytes, above the limit of {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }

    check_header(bytes)?;
    check_structure(bytes, limits)?;

    let mut validator = Validator::new_with_features(accepted_features());
    validator.validate_all(bytes).map_err(|error| {
        Rejection::new(
            Rule::InvalidComponent,
            format!(
                "the component is not valid WebAssembly: {}",
                error.message()
            ),
        )
    })?;

    let decoded = decode_component(bytes)?;
    match &decoded {
        DecodedWasm::Component(resolve, world_id) => world::check(resolve, *world_id)?,
        DecodedWasm::WitPackage(..) => {
            return Err(Rejection::new(
                Rule::InvalidComponent,
                "the upload is a WIT package, not a plugin component",
            ));
        }
    }

    Ok(ValidatedComponent {
        digest: PluginDigest::of(bytes),
        size_bytes: bytes.len(),
    })
}

/// Proposals a plugin may use. Threads and shared memory are left out: the
/// worker runs a plugin on one thread and wasmtime is configured without them.
fn accepted_features() -> WasmFeatures {
    let mut features = WasmFeatures::default();
    features.remove(WasmFeatures::THREADS);
    features.remove(WasmFeatures::SHARED_EVERYTHING_THREADS);
    features
}

fn check_header(bytes: &[u8]) -> Result<(), Rejection> {
    if Parser::is_component(bytes) {
        return Ok(());
    }
    if Parser::is_core_wasm(bytes) {
        return Err(Rejection::new(
            Rule::CoreModule,
            "the upload is a core WebAssembly module; plugins must be components \
             (build with the plugin SDK, which produces a component)",
        ));
    }
    Err(Rejection::new(
        Rule::NotWasm,
        "the upload is not WebAssembly: it does not start with the component header",
    ))
}

/// Counts what drives compile time, before the full validator runs.
fn check_structure(bytes: &[u8], limits: &UploadLimits) -> Result<(), Rejection> {
    let mut functions: u32 = 0;
    let mut nested: u32 = 0;

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|error| {
            Rejection::new(
                Rule::InvalidComponent,
                format!("the component cannot be parsed: {}", error.message()),
            )
        })?;

        match payload {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                nested = nested.saturating_add(1);
                if nested > limits.max_nested_modules {
                    return Err(Rejection::new(
                        Rule::StructureLimit,
                        format!(
                            "the component nests more than {} modules and components",
                            limits.max_nested_modules
                        ),
                    ));
                }
            }
            Payload::CodeSectionStart { count, .. } => {
                functions = functions.saturating_add(count);
                if functions > limits.max_core_functions {
                    return Err(Rejection::new(
                        Rule::StructureLimit,
                        format!(
                            "the component defines more than {} functions",
                            limits.max_core_functions
                        ),
                    ));
                }
            }
            Payload::CodeSectionEntry(body) => check_locals(&body, limits)?,
            _ => {}
        }
    }
    Ok(())
}

fn check_locals(
    body: &wasmparser::FunctionBody<'_>,
    limits: &UploadLimits,
) -> Result<(), Rejection> {
    let invalid = |error: wasmparser::BinaryReaderError| {
        Rejection::new(
            Rule::InvalidComponent,
            format!("a function body cannot be parsed: {}", error.message()),
        )
    };

    let mut total: u64 = 0;
    for declaration in body.get_locals_reader().map_err(invalid)? {
        let (count, _) = declaration.map_err(invalid)?;
        total += u64::from(count);
        if total > u64::from(limits.max_locals_per_function) {
            return Err(Rejection::new(
                Rule::StructureLimit,
                format!(
                    "a function declares more than {} locals",
                    limits.max_locals_per_function
                ),
            ));
        }
    }
    Ok(())
}

/// Decodes the component's WIT world. The decoder runs on input that has
/// already validated, but a panic in it must not take down the gateway, so
/// one is turned into a rejection.
fn decode_component(bytes: &[u8]) -> Result<DecodedWasm, Rejection> {
    let decoded = catch_unwind(AssertUnwindSafe(|| decode(bytes)));
    match decoded {
        Ok(Ok(decoded)) => Ok(decoded),
        Ok(Err(error)) => Err(Rejection::new(
            Rule::InvalidComponent,
            format!("the component's interface cannot be decoded: {error}"),
        )),
        Err(_) => {
            tracing::warn!("component decoder panicked on an upload; rejected it");
            Err(Rejection::new(
                Rule::InvalidComponent,
                "the component's interface cannot be decoded",
            ))
        }
    }
}
