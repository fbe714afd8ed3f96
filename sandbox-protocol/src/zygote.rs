//! Control messages between the gateway and a zygote worker.
//!
//! A zygote is a long-lived `sandbox-worker --zygote` whose stdin is one
//! end of a Unix `SOCK_SEQPACKET` socket pair. It never receives a request
//! frame: for each job the gateway creates the job's stdin, stdout and
//! stderr pipes, sends [`ZygoteCommand::Spawn`] with the child's ends
//! attached as `SCM_RIGHTS`, and writes the request into the stdin pipe
//! itself. The zygote forks a child onto those pipes and reports its pid,
//! then its wait status.
//!
//! The zygote also keeps a few deserialized plugins, each in a numbered
//! slot. [`ZygoteCommand::Load`] carries a memfd with precompiled
//! code (see [`encode_load`]); the zygote deserializes it into the slot and
//! replies with [`ZygoteEvent::Loaded`]. A spawn that names a slot forks a child
//! that inherits that plugin ready to instantiate, so the request it reads
//! carries [`crate::PluginCode::Loaded`] instead of the code. Plugin code
//! is never note data, so the zygote still never holds a note.
//!
//! Every message is [`ZYGOTE_MESSAGE_LEN`] bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0 | message tag |
//! | 1..4 | zero |
//! | 4..8 | value, little-endian `i32`: pid, wait status, errno, or slot number plus one (0 for none) |
//! | 8..16 | job id chosen by the gateway, little-endian `u64` |

/// Length of every zygote control message, in bytes.
pub const ZYGOTE_MESSAGE_LEN: usize = 16;

/// Descriptors attached to a [`ZygoteCommand::Spawn`]: the child's stdin,
/// stdout and stderr, in that order.
pub const SPAWN_DESCRIPTORS: usize = 3;

/// Plugin slots a zygote accepts: slot numbers run from 0 to 63.
pub const MAX_PLUGIN_SLOTS: usize = 64;

/// Descriptors attached to a [`ZygoteCommand::Load`]: one memfd holding
/// the load payload.
pub const LOAD_DESCRIPTORS: usize = 1;

/// Length of the load payload's header: the wasm stack limit of the engine
/// the code is loaded into, little-endian `u64`.
pub const LOAD_HEADER_LEN: usize = 8;

/// A message from the gateway to the zygote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZygoteCommand {
    /// Fork a child for `job` onto the three attached descriptors. With a
    /// `slot`, the child inherits the plugin loaded there.
    Spawn { job: u64, slot: Option<u16> },
    /// Kill the child of `job` with SIGKILL if it has not been reaped yet.
    Kill { job: u64 },
    /// Deserialize the precompiled code in the attached memfd into `slot`,
    /// replacing what the slot held. `job` only matches the event sent back.
    Load { job: u64, slot: u16 },
}

/// A message from the zygote to the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZygoteEvent {
    /// The zygote is set up and accepts commands; sent once, first.
    Ready,
    /// The child of `job` was forked with process id `pid`.
    Started { job: u64, pid: i32 },
    /// `fork` failed for `job` with `errno`; no child exists.
    SpawnFailed { job: u64, errno: i32 },
    /// The child of `job` was reaped; `wait_status` is the raw status from
    /// `waitpid`, as `ExitStatusExt::from_raw` takes it.
    Exited { job: u64, wait_status: i32 },
    /// The load of `job` succeeded and its slot contains the plugin.
    Loaded { job: u64 },
    /// The load of `job` failed, and its slot is now empty. The zygote
    /// writes the reason to its stderr.
    LoadFailed { job: u64 },
}

/// A control message that is not one of the known kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZygoteMessageError {
    #[error("zygote message has {0} bytes, expected {ZYGOTE_MESSAGE_LEN}")]
    Length(usize),
    #[error("unknown zygote message tag {0}")]
    Tag(u8),
    #[error("invalid plugin slot value {0} in a zygote message")]
    Slot(i32),
    #[error("load payload has {0} bytes, shorter than its {LOAD_HEADER_LEN}-byte header")]
    LoadPayload(usize),
}

/// Encodes the payload of a [`ZygoteCommand::Load`]: the header, then the
/// precompiled code.
pub fn encode_load(wasm_stack_bytes: u64, code: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(LOAD_HEADER_LEN + code.len());
    payload.extend_from_slice(&wasm_stack_bytes.to_le_bytes());
    payload.extend_from_slice(code);
    payload
}

/// Splits a load payload into the wasm stack limit and the precompiled code.
pub fn decode_load(payload: &[u8]) -> Result<(u64, &[u8]), ZygoteMessageError> {
    let Some((header, code)) = payload.split_first_chunk::<LOAD_HEADER_LEN>() else {
        return Err(ZygoteMessageError::LoadPayload(payload.len()));
    };
    Ok((u64::from_le_bytes(*header), code))
}

/// Slot number from a message value: 0 is no slot, `n` is slot `n - 1`.
fn decode_slot(value: i32) -> Result<Option<u16>, ZygoteMessageError> {
    match value {
        0 => Ok(None),
        1..=65536 => Ok(Some((value - 1) as u16)),
        _ => Err(ZygoteMessageError::Slot(value)),
    }
}

const TAG_SPAWN: u8 = 1;
const TAG_KILL: u8 = 2;
const TAG_READY: u8 = 3;
const TAG_STARTED: u8 = 4;
const TAG_SPAWN_FAILED: u8 = 5;
const TAG_EXITED: u8 = 6;
const TAG_LOAD: u8 = 7;
const TAG_LOADED: u8 = 8;
const TAG_LOAD_FAILED: u8 = 9;

impl ZygoteCommand {
    /// Encodes the command.
    pub fn encode(self) -> [u8; ZYGOTE_MESSAGE_LEN] {
        match self {
            Self::Spawn { job, slot } => {
                let value = slot.map_or(0, |slot| i32::from(slot) + 1);
                encode(TAG_SPAWN, value, job)
            }
            Self::Kill { job } => encode(TAG_KILL, 0, job),
            Self::Load { job, slot } => encode(TAG_LOAD, i32::from(slot) + 1, job),
        }
    }

    /// Decodes a command.
    pub fn decode(bytes: &[u8]) -> Result<Self, ZygoteMessageError> {
        let (tag, value, job) = decode(bytes)?;
        match tag {
            TAG_SPAWN => Ok(Self::Spawn {
                job,
                slot: decode_slot(value)?,
            }),
            TAG_KILL => Ok(Self::Kill { job }),
            TAG_LOAD => match decode_slot(value)? {
                Some(slot) => Ok(Self::Load { job, slot }),
                None => Err(ZygoteMessageError::Slot(value)),
            },
            other => Err(ZygoteMessageError::Tag(other)),
        }
    }
}

impl ZygoteEvent {
    /// Encodes the event.
    pub fn encode(self) -> [u8; ZYGOTE_MESSAGE_LEN] {
        match self {
            Self::Ready => encode(TAG_READY, 0, 0),
            Self::Started { job, pid } => encode(TAG_STARTED, pid, job),
            Self::SpawnFailed { job, errno } => encode(TAG_SPAWN_FAILED, errno, job),
            Self::Exited { job, wait_status } => encode(TAG_EXITED, wait_status, job),
            Self::Loaded { job } => encode(TAG_LOADED, 0, job),
            Self::LoadFailed { job } => encode(TAG_LOAD_FAILED, 0, job),
        }
    }

    /// Decodes an event.
    pub fn decode(bytes: &[u8]) -> Result<Self, ZygoteMessageError> {
        let (tag, value, job) = decode(bytes)?;
        match tag {
            TAG_READY => Ok(Self::Ready),
            TAG_STARTED => Ok(Self::Started { job, pid: value }),
            TAG_SPAWN_FAILED => Ok(Self::SpawnFailed { job, errno: value }),
            TAG_EXITED => Ok(Self::Exited {
                job,
                wait_status: value,
            }),
            TAG_LOADED => Ok(Self::Loaded { job }),
            TAG_LOAD_FAILED => Ok(Self::LoadFailed { job }),
            other => Err(ZygoteMessageError::Tag(other)),
        }
    }
}

fn encode(tag: u8, value: i32, job: u64) -> [u8; ZYGOTE_MESSAGE_LEN] {
    let mut bytes = [0u8; ZYGOTE_MESSAGE_LEN];
    bytes[0] = tag;
    bytes[4..8].copy_from_slice(&value.to_le_bytes());
    bytes[8..16].copy_from_slice(&job.to_le_bytes());
    bytes
}

fn decode(bytes: &[u8]) -> Result<(u8, i32, u64), ZygoteMessageError> {
    let bytes: &[u8; ZYGOTE_MESSAGE_LEN] = bytes
        .try_into()
        .map_err(|_| ZygoteMessageError::Length(bytes.len()))?;
    let mut value = [0u8; 4];
    value.copy_from_slice(&bytes[4..8]);
    let mut job = [0u8; 8];
    job.copy_from_slice(&bytes[8..16]);
    Ok((bytes[0], i32::from_le_bytes(value), u64::from_le_bytes(job)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        for command in [
            ZygoteCommand::Spawn { job: 7, slot: None },
            ZygoteCommand::Spawn {
                job: 8,
                slot: Some(0),
            },
            ZygoteCommand::Spawn {
                job: 9,
                slot: Some(u16::MAX),
            },
            ZygoteCommand::Kill { job: u64::MAX },
            ZygoteCommand::Load { job: 10, slot: 3 },
        ] {
            assert_eq!(ZygoteCommand::decode(&command.encode()), Ok(command));
        }
    }

    #[test]
    fn events_round_trip() {
        for event in [
            ZygoteEvent::Ready,
            ZygoteEvent::Started { job: 1, pid: 4242 },
            ZygoteEvent::SpawnFailed { job: 2, errno: 11 },
            ZygoteEvent::Exited {
                job: 3,
                wait_status: 31,
            },
            ZygoteEvent::Loaded { job: 4 },
            ZygoteEvent::LoadFailed { job: 5 },
        ] {
            assert_eq!(ZygoteEvent::decode(&event.encode()), Ok(event));
        }
    }

    #[test]
    fn short_and_unknown_messages_are_rejected() {
        assert_eq!(
            ZygoteEvent::decode(&[TAG_READY; 3]),
            Err(ZygoteMessageError::Length(3))
        );
        assert_eq!(
            ZygoteCommand::decode(&encode(TAG_READY, 0, 0)),
            Err(ZygoteMessageError::Tag(TAG_READY))
        );
    }

    #[test]
    fn out_of_range_slots_are_rejected() {
        assert_eq!(
            ZygoteCommand::decode(&encode(TAG_SPAWN, -1, 0)),
            Err(ZygoteMessageError::Slot(-1))
        );
        assert_eq!(
            ZygoteCommand::decode(&encode(TAG_SPAWN, 65537, 0)),
            Err(ZygoteMessageError::Slot(65537))
        );
        assert_eq!(
            ZygoteCommand::decode(&encode(TAG_LOAD, 0, 0)),
            Err(ZygoteMessageError::Slot(0))
        );
    }

    #[test]
    fn load_payload_round_trips() {
        let payload = encode_load(512 << 10, b"code");
        assert_eq!(decode_load(&payload), Ok((512 << 10, &b"code"[..])));
        assert_eq!(
            decode_load(&payload[..7]),
            Err(ZygoteMessageError::LoadPayload(7))
        );
    }
}
