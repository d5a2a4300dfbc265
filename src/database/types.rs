//! How the shared vocabulary is read from and written to PostgreSQL, so that stores answer domain values
//! (`select nik as "nik: Nik"`) and no handler re-parses a row. A stored value that no longer parses is a
//! decoding error of the store, answered INTERNAL and logged, never silently dropped.
//!
//! The domain modules stay free of sqlx: the impls live here.

use rust_decimal::Decimal;
use sqlx::{
    Decode, Encode, Postgres, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef},
};

use crate::{money::Rupiah, month::Month, nik::Nik};

/// Implements `Type`, `Decode` and `Encode` for a domain type stored as a column of type `$repr`.
macro_rules! stored_as {
    ($ty:ty, $repr:ty, decode: $decode:expr, encode: $encode:expr) => {
        impl Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <$repr as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <$repr as Type<Postgres>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <$repr as Decode<Postgres>>::decode(value)?;
                let decode: fn($repr) -> Result<$ty, BoxDynError> = $decode;
                decode(raw)
            }
        }

        impl Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                let encode: fn(&$ty) -> $repr = $encode;
                <$repr as Encode<Postgres>>::encode(encode(self), buf)
            }
        }
    };
}

stored_as!(Nik, String,
    decode: |s| Nik::parse(&s).map_err(|e| format!("a stored NIK {e}").into()),
    encode: |nik| nik.as_str().to_owned());

stored_as!(Month, chrono::NaiveDate,
    decode: |date| Ok(Month::of(date)),
    encode: |month| month.first_day());

stored_as!(Rupiah, Decimal,
    decode: |amount| Rupiah::new(amount).map_err(|e| format!("a stored amount: {e}").into()),
    encode: |amount| amount.amount());

stored_as!(crate::participant::ParticipantNumber, String,
    decode: |s| crate::participant::ParticipantNumber::parse(&s).map_err(|e| format!("a stored participant number {e}").into()),
    encode: |number| number.as_str().to_owned());

/// Implements the sqlx traits for a domain enum stored as its text code (`as_str` / `from_code`).
#[macro_export]
macro_rules! stored_as_code {
    ($ty:ty, $as_str:ident, $from_code:ident) => {
        impl sqlx::Type<sqlx::Postgres> for $ty {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <String as sqlx::Type<sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $ty {
            fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let code = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
                <$ty>::$from_code(code).ok_or_else(|| format!("unknown {} code {code:?}", stringify!($ty)).into())
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $ty {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.$as_str(), buf)
            }
        }
    };
    // Also as the elements of a `text[]` column.
    ($ty:ty, $as_str:ident, $from_code:ident, array) => {
        $crate::stored_as_code!($ty, $as_str, $from_code);

        impl sqlx::postgres::PgHasArrayType for $ty {
            fn array_type_info() -> sqlx::postgres::PgTypeInfo {
                <String as sqlx::postgres::PgHasArrayType>::array_type_info()
            }
            fn array_compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <String as sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            }
        }
    };
}

stored_as_code!(crate::nik::Sex, as_str, from_code);
stored_as_code!(crate::agency::AgencyKind, as_str, from_code);
stored_as_code!(crate::claim::Event, code, from_code);
stored_as_code!(crate::claim::Status, code, from_code, array);
stored_as_code!(crate::claim::Document, code, from_code, array);
stored_as_code!(crate::enrollment::Status, as_str, from_code);
stored_as_code!(crate::enrollment::InsurerRefusal, as_str, from_code);
stored_as_code!(crate::enrollment::EndReason, as_str, from_code);
stored_as_code!(crate::worker::Occupation, as_str, from_code);
stored_as_code!(crate::worker::Flag, code, from_code, array);
stored_as_code!(crate::feed::Kind, code, from_code);
