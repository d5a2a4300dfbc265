-- Each server process keeps the API keys it has found valid in memory (src/agency/cache.rs), so that a call is let
-- in without a query. Any change to a key or to an agency notifies the channel `lindung_api_keys`, and every process
-- listening empties its whole cache when it hears it: a revoked key is refused as soon as the notification is
-- delivered (a few milliseconds after the commit). A notification is sent only if the transaction commits, and
-- PostgreSQL folds the identical ones of a transaction into one, so one a statement is enough: the payload is empty
-- because the cache is emptied whole, not key by key. New keys notify too, though they are never cached unknown, so
-- that the rule stays "any change".
create function api_keys_notify_change() returns trigger language plpgsql as $$
begin
    perform pg_notify('lindung_api_keys', '');
    return null;
end;
$$;

create trigger api_keys_notify_change after insert or update or delete or truncate on api_keys
    for each statement execute function api_keys_notify_change();

-- An agency's name, kind and region are cached with its keys; deleting it deletes its keys (which notifies as well).
create trigger agencies_notify_change after update or delete or truncate on agencies
    for each statement execute function api_keys_notify_change();
