//! The note this run was started on.
//!
//! Each call fetches the text from the host again and copies it into the
//! plugin's memory, so read a value once and keep it rather than calling in
//! a loop.

/// Returns the note's title.
pub fn title() -> String {
    #[cfg(target_arch = "wasm32")]
    return crate::__private::bindings::sandnotes::plugin::host::note_title();

    #[cfg(not(target_arch = "wasm32"))]
    return crate::native::note_title();
}

/// Returns the note's body.
pub fn body() -> String {
    #[cfg(target_arch = "wasm32")]
    return crate::__private::bindings::sandnotes::plugin::host::note_body();

    #[cfg(not(target_arch = "wasm32"))]
    return crate::native::note_body();
}
