//! Framing: header, bounds and postcard payloads.

use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

/// First four bytes of every frame.
pub const MAGIC: [u8; 4] = *b"SNWP";

/// Version of the message types; a peer rejects any other version.
pub const PROTOCOL_VERSION: u16 = 2;

/// Header length in bytes: magic, version and payload length.
pub const HEADER_LEN: usize = 10;

/// A frame that could not be read, written, encoded or decoded.
///
/// Messages never include payload bytes, so they cannot leak note text.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("failed to read or write a frame")]
    Io(#[from] std::io::Error),

    #[error("invalid frame magic {found:02x?}, expected {MAGIC:02x?}")]
    InvalidMagic { found: [u8; 4] },

    #[error("unsupported protocol version {found}, expected {PROTOCOL_VERSION}")]
    UnsupportedVersion { found: u16 },

    #[error("frame payload of {length} bytes exceeds the maximum of {max} bytes")]
    TooLarge { length: u64, max: usize },

    #[error("frame truncated: {found} of {expected} bytes present")]
    Truncated { expected: usize, found: usize },

    #[error("{count} unexpected bytes after the frame")]
    TrailingBytes { count: usize },

    #[error("failed to encode the frame payload")]
    Encode(#[source] postcard::Error),

    #[error("failed to decode the frame payload")]
    Decode(#[source] postcard::Error),
}

/// Encodes `message` as one frame.
///
/// The payload is serialized into a buffer of its exact size, so no
/// reallocation leaves copies of note text behind, and the buffer is
/// zeroized on drop. Fails with [`FrameError::TooLarge`] when the payload
/// exceeds `max_payload` bytes or `u32::MAX`.
pub fn encode<T: Serialize>(
    message: &T,
    max_payload: usize,
) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let payload_len =
        postcard::experimental::serialized_size(message).map_err(FrameError::Encode)?;
    let length = u32::try_from(payload_len)
        .ok()
        .filter(|_| payload_len <= max_payload)
        .ok_or(FrameError::TooLarge {
            length: payload_len as u64,
            max: max_payload,
        })?;

    let mut frame = Zeroizing::new(vec![0u8; HEADER_LEN + payload_len]);
    frame[..4].copy_from_slice(&MAGIC);
    frame[4..6].copy_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    frame[6..HEADER_LEN].copy_from_slice(&length.to_be_bytes());
    postcard::to_slice(message, &mut frame[HEADER_LEN..]).map_err(FrameError::Encode)?;
    Ok(frame)
}

/// Encodes `message` and writes it to `writer` as one frame, then flushes.
pub fn write_frame<T: Serialize, W: Write>(
    writer: &mut W,
    message: &T,
    max_payload: usize,
) -> Result<(), FrameError> {
    let frame = encode(message, max_payload)?;
    writer.write_all(&frame)?;
    writer.flush()?;
    Ok(())
}

/// Checks a header and returns the payload length it announces.
fn parse_header(header: &[u8; HEADER_LEN], max_payload: usize) -> Result<usize, FrameError> {
    let mut magic = [0u8; 4];
    magic.copy_from_slice(&header[..4]);
    if magic != MAGIC {
        return Err(FrameError::InvalidMagic { found: magic });
    }

    let version = u16::from_be_bytes([header[4], header[5]]);
    if version != PROTOCOL_VERSION {
        return Err(FrameError::UnsupportedVersion { found: version });
    }

    let length = u32::from_be_bytes([header[6], header[7], header[8], header[9]]);
    usize::try_from(length)
        .ok()
        .filter(|&length| length <= max_payload)
        .ok_or(FrameError::TooLarge {
            length: u64::from(length),
            max: max_payload,
        })
}

/// Reads one frame from `reader` and returns its payload.
///
/// The announced length is checked against `max_payload` before the
/// payload buffer is allocated. The buffer is zeroized on drop because a
/// request payload contains the note.
pub fn read_frame<R: Read>(
    reader: &mut R,
    max_payload: usize,
) -> Result<Zeroizing<Vec<u8>>, FrameError> {
    let mut header = [0u8; HEADER_LEN];
    read_exact_or_truncated(reader, &mut header)?;
    let length = parse_header(&header, max_payload)?;

    let mut payload = Zeroizing::new(vec![0u8; length]);
    read_exact_or_truncated(reader, &mut payload)?;
    Ok(payload)
}

fn read_exact_or_truncated<R: Read>(reader: &mut R, buffer: &mut [u8]) -> Result<(), FrameError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => {
                return Err(FrameError::Truncated {
                    expected: buffer.len(),
                    found: filled,
                });
            }
            Ok(count) => filled += count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Decodes a message from a payload returned by [`read_frame`].
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    let (message, rest) = postcard::take_from_bytes(payload).map_err(FrameError::Decode)?;
    if !rest.is_empty() {
        return Err(FrameError::TrailingBytes { count: rest.len() });
    }
    Ok(message)
}

/// Whether `bytes` is exactly one frame with a valid header and a payload
/// of the length the header states. The payload is not decoded.
pub fn is_whole_frame(bytes: &[u8], max_payload: usize) -> bool {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return false;
    };
    parse_header(header, max_payload).is_ok_and(|length| length == payload.len())
}

/// Decodes a buffer that contains exactly one frame, header included.
pub fn decode<T: DeserializeOwned>(frame: &[u8], max_payload: usize) -> Result<T, FrameError> {
    let Some((header, payload)) = frame.split_first_chunk::<HEADER_LEN>() else {
        return Err(FrameError::Truncated {
            expected: HEADER_LEN,
            found: frame.len(),
        });
    };
    let length = parse_header(header, max_payload)?;

    if payload.len() < length {
        return Err(FrameError::Truncated {
            expected: length,
            found: payload.len(),
        });
    }
    if payload.len() > length {
        return Err(FrameError::TrailingBytes {
            count: payload.len() - length,
        });
    }
    decode_payload(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frame_is_recognized() {
        let frame = encode(&("hello".to_owned(), 7u32), 1024).unwrap();
        assert!(is_whole_frame(&frame, 1024));
        assert!(!is_whole_frame(&frame[..frame.len() - 1], 1024));
        assert!(!is_whole_frame(&frame[..HEADER_LEN - 1], 1024));
        let mut longer = frame.to_vec();
        longer.push(0);
        assert!(!is_whole_frame(&longer, 1024));
        assert!(!is_whole_frame(&frame, 2));
    }

    #[test]
    fn frame_round_trips() {
        let frame = encode(&("hello".to_owned(), 7u32), 1024).unwrap();

        let decoded: (String, u32) = decode(&frame, 1024).unwrap();

        assert_eq!(decoded, ("hello".to_owned(), 7));
    }

    #[test]
    fn read_frame_returns_payload() {
        let frame = encode(&42u64, 64).unwrap();

        let payload = read_frame(&mut frame.as_slice(), 64).unwrap();

        assert_eq!(decode_payload::<u64>(&payload).unwrap(), 42);
    }

    #[test]
    fn encode_rejects_payload_over_max() {
        let error = encode(&vec![0u8; 100], 10).unwrap_err();

        assert!(
            matches!(error, FrameError::TooLarge { max: 10, .. }),
            "{error}"
        );
    }

    #[test]
    fn oversized_header_rejected_before_allocation() {
        let mut header = Vec::from(MAGIC);
        header.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
        header.extend_from_slice(&u32::MAX.to_be_bytes());

        let error = read_frame(&mut header.as_slice(), 1 << 20).unwrap_err();

        assert!(
            matches!(error, FrameError::TooLarge { length, .. } if length == u64::from(u32::MAX)),
            "{error}"
        );
    }

    #[test]
    fn wrong_magic_rejected() {
        let mut frame = encode(&1u8, 16).unwrap().to_vec();
        frame[0] = b'X';

        let error = decode::<u8>(&frame, 16).unwrap_err();

        assert!(matches!(error, FrameError::InvalidMagic { .. }), "{error}");
    }

    #[test]
    fn other_version_rejected() {
        let mut frame = encode(&1u8, 16).unwrap().to_vec();
        frame[4..6].copy_from_slice(&(PROTOCOL_VERSION + 1).to_be_bytes());

        let error = decode::<u8>(&frame, 16).unwrap_err();

        assert!(
            matches!(error, FrameError::UnsupportedVersion { .. }),
            "{error}"
        );
    }

    #[test]
    fn truncated_payload_rejected() {
        let frame = encode(&"some text".to_owned(), 64).unwrap();
        let cut = &frame[..frame.len() - 2];

        let read_error = read_frame(&mut &cut[..], 64).unwrap_err();
        let decode_error = decode::<String>(cut, 64).unwrap_err();

        assert!(
            matches!(read_error, FrameError::Truncated { .. }),
            "{read_error}"
        );
        assert!(
            matches!(decode_error, FrameError::Truncated { .. }),
            "{decode_error}"
        );
    }

    #[test]
    fn trailing_bytes_rejected() {
        let mut frame = encode(&1u8, 16).unwrap().to_vec();
        frame.push(0);

        let error = decode::<u8>(&frame, 16).unwrap_err();

        assert!(
            matches!(error, FrameError::TrailingBytes { count: 1 }),
            "{error}"
        );
    }

    #[test]
    fn empty_input_is_truncated() {
        let error = read_frame(&mut &[][..], 16).unwrap_err();

        assert!(
            matches!(error, FrameError::Truncated { found: 0, .. }),
            "{error}"
        );
    }
}
