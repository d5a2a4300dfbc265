-- The values of R2.2 that RULES.md marks [UNCONF] become settings of each subsidy, with today's values as their
-- defaults, so that a confirmed or renegotiated figure is a change of data rather than of code:
--   full_death_benefit_from: the paid months from which JKM pays the full death benefit (R2.2: 3);
--   early_death_benefit:     what JKM pays in total before that (R2.2: Rp10,000,000).
-- subsidy::service::benefit_policy reads them into the benefit calculator's Policy, which both VerifyCoverage and
-- claims use. The API does not expose them yet: every subsidy has the defaults until an RPC sets them.

alter table subsidies
    add column full_death_benefit_from integer not null default 3
        constraint subsidies_full_death_benefit_from_range check (full_death_benefit_from between 0 and 120),
    add column early_death_benefit numeric(15, 2) not null default 10000000
        constraint subsidies_early_death_benefit_not_negative check (early_death_benefit >= 0);
