//! The agency use cases: what a caller may do.

use super::AgencyKind;
use crate::auth::{self, Rpc, Scope};

/// Every RPC an agency of `kind` may call, with the scope it may call it in, in the order of [`auth::TABLE`].
#[tracing::instrument(skip_all)]
pub fn permissions(kind: AgencyKind) -> Vec<(Rpc, Scope)> {
    auth::TABLE.iter().filter_map(|(rpc, _)| auth::scope(kind, *rpc).map(|scope| (*rpc, scope))).collect()
}
