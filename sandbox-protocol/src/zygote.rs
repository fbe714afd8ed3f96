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
//! Every message is [`ZYGOTE_MESSAGE_LEN`] bytes:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0 | message tag |
//! | 1..4 | zero |
//! | 4..8 | value, little-endian `i32`: pid, wait status or errno |
//! | 8..16 | job id chosen by the gateway, little-endian `u64` |

/// Length of every zygote control message, in bytes.
pub const ZYGOTE_MESSAGE_LEN: usize = 16;

/// Descriptors attached to a [`ZygoteCommand::Spawn`]: the child's stdin,
/// stdout and stderr, in that order.
pub const SPAWN_DESCRIPTORS: usize = 3;

/// A message from the gateway to the zygote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZygoteCommand {
    /// Fork a child for `job` onto the three attached descriptors.
    Spawn { job: u64 },
    /// Kill the child of `job` with SIGKILL if it has not been reaped yet.
    Kill { job: u64 },
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
}

/// A control message that is not one of the known kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZygoteMessageError {
    #[error("zygote message has {0} bytes, expected {ZYGOTE_MESSAGE_LEN}")]
    Length(usize),
    #[error("unknown zygote message tag {0}")]
    Tag(u8),
}

const TAG_SPAWN: u8 = 1;
const TAG_KILL: u8 = 2;
const TAG_READY: u8 = 3;
const TAG_STARTED: u8 = 4;
const TAG_SPAWN_FAILED: u8 = 5;
const TAG_EXITED: u8 = 6;

impl ZygoteCommand {
    /// Encodes the command.
    pub fn encode(self) -> [u8; ZYGOTE_MESSAGE_LEN] {
        match self {
            Self::Spawn { job } => encode(TAG_SPAWN, 0, job),
            Self::Kill { job } => encode(TAG_KILL, 0, job),
        }
    }

    /// Decodes a command.
    pub fn decode(bytes: &[u8]) -> Result<Self, ZygoteMessageError> {
        let (tag, _, job) = decode(bytes)?;
        match tag {
            TAG_SPAWN => Ok(Self::Spawn { job }),
            TAG_KILL => Ok(Self::Kill { job }),
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
            ZygoteCommand::Spawn { job: 7 },
            ZygoteCommand::Kill { job: u64::MAX },
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
}
