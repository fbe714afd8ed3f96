//! The protocol between the gateway and `sandbox-worker`.
//!
//! The gateway spawns one worker per job, writes one [`Request`] frame to
//! its stdin and reads one [`Response`] frame from its stdout. A frame is a
//! 10-byte header followed by a postcard-encoded payload:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0..4 | magic, [`MAGIC`] (`SNWP`) |
//! | 4..6 | protocol version, big-endian `u16`, [`PROTOCOL_VERSION`] |
//! | 6..10 | payload length in bytes, big-endian `u32` |
//!
//! Every reader takes a maximum payload size and checks the header's length
//! against it before allocating, so a peer cannot make the other side
//! allocate more than it allows.
//!
//! No message carries key material: the request contains the plugin, its
//! arguments, the decrypted note and limits; the response contains the run's
//! outcome, log lines and resource figures. Buffers that may contain note
//! text ([`NoteContent`], [`Output`], [`LogLine`] and encoded frames) are
//! zeroized on drop.

mod frame;
mod limits;
mod message;
mod zygote;

pub use frame::{
    FrameError, HEADER_LEN, MAGIC, PROTOCOL_VERSION, decode, decode_payload, encode,
    is_whole_frame, read_frame, write_frame,
};
pub use limits::{DEFAULT_MAX_REQUEST_BYTES, GuestLimits, MAX_MESSAGE_BYTES, ProcessLimits};
pub use message::{
    CompileRequest, CompileResponse, LogLevel, LogLine, NoteContent, Output, OutputKind,
    PluginCode, Request, Response, RunOutcome, RunRequest, RunResponse,
};
pub use zygote::{
    LOAD_DESCRIPTORS, LOAD_HEADER_LEN, MAX_PLUGIN_SLOTS, SPAWN_DESCRIPTORS, ZYGOTE_MESSAGE_LEN,
    ZygoteCommand, ZygoteEvent, ZygoteMessageError, decode_load, encode_load,
};
