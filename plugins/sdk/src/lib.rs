//! The sandnotes plugin SDK: write a plugin as one Rust function.
//!
//! A plugin is a WebAssembly component for the `sandnotes:plugin@0.1.0` world
//! (`plugins/wit/plugin.wit`). This crate hides the generated bindings, so a
//! plugin crate contains its logic, one [`export_plugin!`] line and its
//! metadata:
//!
//! ```ignore
//! use sandnotes_plugin_sdk::{export_plugin, log, note, Args, Output};
//!
//! fn run(args: Args) -> Result<Output, String> {
//!     let body = note::body();
//!     log::info(&format!("note has {} bytes", body.len()));
//!     Output::json(&serde_json::json!({ "bytes": body.len() }))
//! }
//!
//! export_plugin!(run);
//! ```
//!
//! The plugin crate's `Cargo.toml` sets `crate-type = ["cdylib", "rlib"]` and
//! carries the metadata that the build tool (`cargo run -p plugin-build`)
//! reads:
//!
//! ```toml
//! [package.metadata.sandnotes]
//! name = "word-count"            # optional, defaults to the package name
//! description = "Counts words."  # optional, defaults to the package description
//! ```
//!
//! # What a plugin can do
//!
//! Only what the host interface offers: read the note's title and body
//! ([`note`]), append log lines ([`log`]) and return an [`Output`]. There is
//! no file system, network, clock or randomness. The host bounds fuel,
//! memory, stack depth, output size and log size. A plugin that exceeds one
//! is stopped, and the run's outcome names the limit it hit.
//!
//! A panic ends the run as a trap. The SDK installs a panic hook that logs
//! the panic message at error level first, so the caller sees why.
//!
//! # Native builds
//!
//! Plugin crates also compile for the host so their logic can be unit
//! tested. There, [`note`] and [`log`] talk to a thread-local stand-in that
//! [`testing`] controls instead of a host.

mod args;
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
mod native;
pub mod note;
mod output;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use args::Args;
pub use output::Output;

/// Items used by [`export_plugin!`]'s expansion. Not part of the API.
#[doc(hidden)]
pub mod __private {
    /// Bindings generated from the plugin world.
    // The generated code is FFI glue for the component ABI and needs
    // `unsafe` for raw pointers into linear memory.
    #[allow(
        unsafe_code,
        unreachable_pub,
        missing_docs,
        clippy::all,
        clippy::mem_forget
    )]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../wit",
            world: "plugin",
            pub_export_macro: true,
            export_macro_name: "__export_plugin_world",
            default_bindings_module: "::sandnotes_plugin_sdk::__private::bindings",
        });
    }

    /// Calls the plugin's function with the host's arguments and converts
    /// its result to the world's types.
    pub fn call_plugin<F>(run: F, args: String) -> Result<bindings::Output, String>
    where
        F: FnOnce(crate::Args) -> Result<crate::Output, String>,
    {
        crate::log::install_panic_hook();
        run(crate::Args::new(args)).map(crate::Output::into_world)
    }
}

/// Exports a function `fn(Args) -> Result<Output, String>` as the plugin's
/// `run` entry point.
///
/// Use it once per plugin crate, at the crate root.
#[macro_export]
macro_rules! export_plugin {
    ($run:path) => {
        #[doc(hidden)]
        struct __SandnotesPlugin;

        impl $crate::__private::bindings::Guest for __SandnotesPlugin {
            fn run(
                args: ::std::string::String,
            ) -> ::core::result::Result<
                $crate::__private::bindings::Output,
                ::std::string::String,
            > {
                $crate::__private::call_plugin($run, args)
            }
        }

        $crate::__private::bindings::__export_plugin_world!(
            __SandnotesPlugin with_types_in $crate::__private::bindings
        );
    };
}
