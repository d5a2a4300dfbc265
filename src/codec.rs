//! The protobuf codec of every lindung service: prost's encoder and decoder, except that a message that cannot be
//! decoded (invalid UTF-8 in a string, a wrong wire type, a truncated message) is the caller's fault and answered
//! INVALID_ARGUMENT with a `google.rpc.BadRequest` naming the field, where tonic's default answers INTERNAL.
//!
//! `build.rs` makes the generated servers (and clients) use [`ProtoCodec`], so the mapping is made here once, for
//! unary calls and for every message of a client stream alike.

use std::marker::PhantomData;

use prost::Message;
use tonic::{
    Status,
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
};
use tonic_prost::ProstEncoder;

use crate::error::{Error, FieldViolation};

/// prost's codec with decode failures mapped to INVALID_ARGUMENT.
#[derive(Debug, Clone)]
pub struct ProtoCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self { _types: PhantomData }
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder { _type: PhantomData }
    }
}

/// Decodes `U`, answering a malformed message as the caller's error.
#[derive(Debug, Clone)]
pub struct ProtoDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + Default> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(|error| Error::InvalidArgument(vec![undecodable(&error)]).into())
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// The field violation for a message prost could not decode: the path of the field it failed in (prost records it
/// innermost first, as `Message.field: `) and what was wrong.
pub fn undecodable(error: &prost::DecodeError) -> FieldViolation {
    let text = error.to_string();
    let mut rest = text.strip_prefix("failed to decode Protobuf message: ").unwrap_or(&text);
    let mut fields = Vec::new();
    while let Some((entry, tail)) = rest.split_once(": ") {
        let Some((message, field)) = entry.split_once('.') else { break };
        let identifier = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier(message) || !identifier(field) {
            break;
        }
        fields.push(field);
        rest = tail;
    }
    fields.reverse();
    FieldViolation::new(fields.join("."), crate::msg!(MESSAGE_UNDECODABLE, detail = rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation(bytes: &[u8]) -> FieldViolation {
        let error = crate::proto::v1::VerifyCoverageRequest::decode(bytes).expect_err("malformed");
        undecodable(&error)
    }

    #[test]
    fn a_malformed_message_names_the_field_it_broke_in() {
        // Field 1 (nik) with two bytes that are not UTF-8.
        let v = violation(&[0x0a, 0x02, 0xff, 0xfe]);
        assert_eq!((v.field.as_str(), v.reason), ("nik", "MESSAGE_UNDECODABLE"));
        assert!(v.description.contains("UTF-8"), "{}", v.description);
        // Field 1 as a varint: the wrong wire type.
        assert_eq!(violation(&[0x08, 0x01]).field, "nik");
        // A length of 5 with one byte left: truncated.
        assert_eq!(violation(&[0x0a, 0x05, 0xff]).reason, "MESSAGE_UNDECODABLE");
    }

    #[test]
    fn a_nested_field_is_named_by_its_path() {
        // UpsertWorkerRequest.worker (1) holding Worker.nik (1) with invalid UTF-8.
        let error = crate::proto::v1::UpsertWorkerRequest::decode(&[0x0a, 0x04, 0x0a, 0x02, 0xff, 0xfe][..])
            .expect_err("malformed");
        assert_eq!(undecodable(&error).field, "worker.nik");
    }
}
