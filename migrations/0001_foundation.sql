-- lindung's foundation: the Indonesian areas, the agencies that call lindung and their API keys, the registry of
-- workers, and the audit log. Every constraint is named so that storage errors map to domain errors by name.
-- Area codes use the "C" collation: they are compared byte-wise, and `LIKE '32.71.%'` can use a plain btree index.

-- Kemendagri area codes, loaded at start-up from data/idn-area (ODbL, see data/idn-area/SOURCE.md).
create table provinces (
    code text collate "C" primary key constraint provinces_code_format check (code ~ '^[0-9]{2}$'),
    name text not null
);

create table regencies (
    code text collate "C" primary key constraint regencies_code_format check (code ~ '^[0-9]{2}\.[0-9]{2}$'),
    province_code text collate "C" not null constraint regencies_province_fk references provinces,
    name text not null
);

create table districts (
    code text collate "C" primary key
        constraint districts_code_format check (code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$'),
    regency_code text collate "C" not null constraint districts_regency_fk references regencies,
    name text not null
);

create table villages (
    code text collate "C" primary key
        constraint villages_code_format check (code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$'),
    district_code text collate "C" not null constraint villages_district_fk references districts,
    name text not null
);

-- Which edition of the area list is loaded; one row. Loading is skipped when the edition is already there.
create table area_dataset (
    singleton boolean primary key default true constraint area_dataset_singleton check (singleton),
    edition text not null,
    loaded_at timestamptz not null default now()
);

-- A city (or regency) government, a province, or the insurer. The region is stored as foreign keys into the area
-- tables so that an agency can only govern an area that exists.
create table agencies (
    id uuid primary key default gen_random_uuid(),
    kind text not null constraint agencies_kind_known check (kind in ('city', 'province', 'insurer')),
    name text not null constraint agencies_name_unique unique,
    province_code text collate "C" constraint agencies_province_fk references provinces,
    regency_code text collate "C" constraint agencies_regency_fk references regencies,
    created_at timestamptz not null default now(),
    constraint agencies_region_matches_kind check (
        (kind = 'insurer' and province_code is null and regency_code is null)
        or (kind = 'province' and province_code is not null and regency_code is null)
        or (kind = 'city' and regency_code is not null and province_code = left(regency_code, 2))
    )
);

-- Only a SHA-256 of each key is kept: keys are 256-bit random secrets, so a slow password hash adds nothing, and a
-- leaked table does not leak a usable key.
create table api_keys (
    id uuid primary key default gen_random_uuid(),
    agency_id uuid not null constraint api_keys_agency_fk references agencies on delete cascade,
    key_hash bytea not null constraint api_keys_hash_unique unique
        constraint api_keys_hash_length check (length(key_hash) = 32),
    -- The first characters of the key, so that an operator can tell keys apart without seeing them.
    key_prefix text not null,
    created_at timestamptz not null default now(),
    revoked_at timestamptz
);

-- The shared registry of workers, keyed by NIK.
create table workers (
    nik text collate "C" primary key constraint workers_nik_format check (nik ~ '^[0-9]{16}$'),
    full_name text not null constraint workers_full_name_length check (char_length(full_name) between 1 and 150),
    birth_date date not null,
    sex text not null constraint workers_sex_known check (sex in ('male', 'female')),
    domicile_village_code text collate "C" not null constraint workers_domicile_fk references villages,
    occupation text not null constraint workers_occupation_known check (
        occupation in ('trader', 'construction', 'tailor', 'driver', 'farmer', 'fisher', 'domestic', 'other')
    ),
    occupation_detail text,
    decile smallint not null constraint workers_decile_range check (decile between 1 and 10),
    decile_source text not null,
    -- First day of the quarter the decile was ranked in (R4.1: deciles are re-ranked every quarter).
    decile_as_of date not null constraint workers_decile_as_of_quarter_start check (
        extract(day from decile_as_of) = 1 and extract(month from decile_as_of) in (1, 4, 7, 10)
    ),
    phone text constraint workers_phone_e164 check (phone ~ '^\+62[0-9]{7,13}$'),
    date_of_death date constraint workers_death_after_birth check (date_of_death >= birth_date),
    -- Warnings raised on the data (R5.2, R5.4): recorded, never a reason to reject.
    flags text[] not null default '{}',
    created_by uuid not null constraint workers_created_by_fk references agencies,
    created_at timestamptz not null default now(),
    updated_by uuid not null constraint workers_updated_by_fk references agencies,
    updated_at timestamptz not null default now(),
    constraint workers_other_occupation_detailed check (occupation <> 'other' or occupation_detail is not null)
);

create index workers_domicile on workers (domicile_village_code, nik);
create index workers_decile on workers (decile);

-- Who did what, when, with which outcome. The worker is kept as a keyed hash of the NIK (HMAC-SHA256 under the
-- deployment's pseudonym key), never in clear, so the log can be shared and searched for one person without
-- exposing everyone (UU PDP, R6.3).
create table audit_log (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    agency_id uuid constraint audit_log_agency_fk references agencies,
    -- Full gRPC method name, e.g. /lindung.v1.WorkerService/UpsertWorker.
    method text not null,
    request_id text not null,
    -- OK, or the gRPC status code name of a refusal (e.g. INVALID_ARGUMENT).
    outcome text not null,
    subject_hash bytea constraint audit_log_subject_hash_length check (length(subject_hash) = 32)
);

create index audit_log_subject on audit_log (subject_hash, at) where subject_hash is not null;
create index audit_log_agency on audit_log (agency_id, at);

-- The audit log is append-only: an UPDATE or DELETE is an error, whoever issues it.
create function audit_log_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_log_append_only before update or delete on audit_log
    for each statement execute function audit_log_append_only();
