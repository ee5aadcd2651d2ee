"""The set-based SQL that `seed_scale` builds an organisation with (PostgreSQL).

Every draw is `pg_temp.r(stream, row number)`: a hash of the row number, made
non-negative, so the same arguments always give the same rows. The weighting categories
of the survey invitations come from `app.results.categories`' own tables (passed as
parameters), so they cannot drift from what the app computes.
"""

from __future__ import annotations

from app.results.categories import AGE_BANDS, ETHNIC_GROUPS, UNKNOWN

#: Creates the draw function in the session that runs the statements after it.
HASH = """CREATE OR REPLACE FUNCTION pg_temp.r(seed integer, g integer) RETURNS integer
   LANGUAGE sql IMMUTABLE AS 'SELECT hashint4(seed + g) & 2147483647'"""

TABLES = [
    HASH,
    """INSERT INTO organisations (id, slug, name, created_at)
       VALUES (1, 'trust', 'Trust', :old)""",
    """INSERT INTO clinics (id, organisation_id, slug, name, timezone, sender, quiet_start,
         quiet_end, default_locale, reminder_rules, expiry_margin_minutes, allowed_regions,
         survey_slug, survey_delay_minutes, survey_window_minutes, survey_interval_days,
         survey_session_hours, survey_suppressed_pathways, whatsapp_templates, created_at)
       SELECT g, 1, 'c' || g, 'Clinic ' || g, 'Europe/London',
         '+4420718' || lpad(g::text, 5, '0'), '21:00', '08:00', 'en', '[]', 120, '[]', 'fft',
         120, 1440, 30, 48, '[]', '{}', :old
       FROM generate_series(1, :clinics) g""",
    """INSERT INTO patients (id, clinic_id, external_id, phone, locale, birth_year, sex,
         ethnic_category, imd_quintile, channel_preference, created_at, updated_at)
       SELECT g, 1 + g % :clinics, 'P' || g, '+4474' || lpad(g::text, 8, '0'),
         (ARRAY['en','en','en','en','pl','ur','pa','bn','cy','ro','so','ar'])
           [1 + pg_temp.r(1, g) % 12],
         1930 + pg_temp.r(2, g) % 80,
         (ARRAY['F','M','F','M','X','U'])[1 + pg_temp.r(3, g) % 6],
         substr('ABCDEFGHJKLMNPRSZ', 1 + pg_temp.r(4, g) % 17, 1),
         1 + pg_temp.r(5, g) % 5, 'sms', :old, :old
       FROM generate_series(1, :patients) g""",
    """CREATE UNLOGGED TABLE bench_source AS
       SELECT g, 1 + pg_temp.r(11, g) % :patients AS p,
         pg_temp.r(12, g) % 1000 AS r1, pg_temp.r(13, g) % 1000 AS r2,
         CASE WHEN g <= :historic
           THEN :start + (pg_temp.r(14, g) % :span) * interval '1 minute'
           ELSE :now + interval '1 day' + (pg_temp.r(14, g) % 129600) * interval '1 minute'
         END AS s
       FROM generate_series(1, :appointments) g""",
    """INSERT INTO appointments (id, clinic_id, patient_id, external_id, starts_at, status,
         plan_version, confirmed_at, rebook_requested_at, cancelled_at, cancel_lead_minutes,
         outcome_recorded_at, created_at, updated_at)
       SELECT g, 1 + p % :clinics, p, 'A' || g, s,
         CASE WHEN g > :historic THEN 'booked' WHEN r1 < 800 THEN 'attended'
              WHEN r1 < 890 THEN 'dna' WHEN r1 < 950 THEN 'cancelled_patient'
              WHEN r1 < 980 THEN 'cancelled_clinic' ELSE 'booked' END,
         1,
         CASE WHEN g <= :historic AND r2 < 300 THEN s - interval '2 days' END,
         CASE WHEN g <= :historic AND r2 >= 990 THEN s - interval '3 days' END,
         CASE WHEN g <= :historic AND r1 BETWEEN 890 AND 979
           THEN s - r2 * interval '10 minutes' END,
         CASE WHEN g <= :historic AND r1 BETWEEN 890 AND 949 THEN r2 * 10 END,
         CASE WHEN g <= :historic AND r1 < 890 THEN s + interval '1 hour' END,
         LEAST(s - (r2 % 90) * interval '1 day' - interval '1 hour', :now - interval '1 day'),
         LEAST(s + interval '1 day', :now - interval '1 day')
       FROM bench_source""",
    # A sent reminder (delivered or not) has what sending gave it: its times, an
    # attempt, the provider's sid, and its text while texts are kept (:retained on).
    """INSERT INTO outbound_messages (clinic_id, patient_id, appointment_id, kind, rule,
         plan_version, channel, state, due_at, expires_at, claimed_at, sending_at,
         accepted_at, delivered_at, attempts, provider_sid, locale, body, encoding,
         segments, created_at, updated_at)
       SELECT m.clinic_id, m.patient_id, m.appointment_id, 'reminder', m.rule, 1, 'sms',
         m.state, m.due, m.starts_at - interval '2 hours',
         CASE WHEN m.sent THEN m.due END, CASE WHEN m.sent THEN m.due END,
         CASE WHEN m.sent THEN m.due + interval '1 second' END,
         CASE WHEN m.state = 'delivered' THEN m.due + interval '20 seconds' END,
         CASE WHEN m.sent THEN 1 ELSE 0 END,
         CASE WHEN m.sent THEN 'SM' || md5(m.appointment_id || m.rule) END,
         CASE WHEN m.sent THEN 'en' END,
         CASE WHEN m.sent AND m.due >= :retained
           THEN 'Reminder: your appointment at Clinic ' || m.clinic_id || ' is on '
             || to_char(m.starts_at AT TIME ZONE 'Europe/London', 'Dy DD Mon "at" HH24:MI')
             || '. Reply 1 to confirm, 2 if you cannot come or 3 to rebook.' END,
         CASE WHEN m.sent THEN 'GSM-7' END, CASE WHEN m.sent THEN 1 END,
         m.created_at,
         CASE WHEN m.sent THEN m.due + interval '20 seconds'
              ELSE LEAST(m.due, m.created_at) END
       FROM (
         SELECT s.*, s.state IN ('delivered', 'undelivered') AS sent
         FROM (
           SELECT a.clinic_id, a.patient_id, a.id AS appointment_id, a.starts_at,
             a.created_at, r.rule, a.starts_at - r.off AS due,
             CASE WHEN a.id > :historic THEN 'pending'
                  WHEN pg_temp.r(r.k, a.id * 2) % 100 < 80 THEN 'delivered'
                  WHEN pg_temp.r(r.k, a.id * 2) % 100 < 90 THEN 'undelivered'
                  ELSE 'expired' END AS state
           FROM appointments a
           CROSS JOIN (VALUES ('7d', 0, interval '7 days'), ('1d', 1, interval '1 day'))
             AS r(rule, k, off)
           WHERE a.id > :historic OR pg_temp.r(99, a.id) % 100 < 85
         ) s
       ) m""",
    "DROP TABLE bench_source",
    "SELECT setval('appointments_id_seq', :appointments)",
    "SELECT setval('patients_id_seq', :patients)",
    "SELECT setval('clinics_id_seq', :clinics)",
    "SELECT setval('organisations_id_seq', 1)",
]

#: (clinic id, ids) of the appointments an experiment from :since covers: those with a
#: reminder planned.
EXPERIMENT_APPOINTMENTS = """SELECT a.clinic_id, array_agg(a.id ORDER BY a.id)
   FROM appointments a
   WHERE a.starts_at >= :since AND a.status <> 'entered_in_error'
     AND EXISTS (SELECT 1 FROM outbound_messages m
                 WHERE m.appointment_id = a.id AND m.kind = 'reminder')
   GROUP BY a.clinic_id ORDER BY a.clinic_id"""
#: How many of those are attended or DNA already.
EXPERIMENT_OUTCOMES = """SELECT count(*) FROM appointments a
   WHERE a.starts_at >= :since AND a.status IN ('attended', 'dna')
     AND EXISTS (SELECT 1 FROM outbound_messages m
                 WHERE m.appointment_id = a.id AND m.kind = 'reminder')"""


def category_params() -> dict[str, object]:
    """The weighting categories' tables as parameters of `INVITE`, and the answer to
    the free-text question."""
    return {
        "unknown": UNKNOWN,
        "age_lows": [low for low, _, _ in AGE_BANDS],
        "age_highs": [high for _, high, _ in AGE_BANDS],
        "age_bands": [band for _, _, band in AGE_BANDS],
        "middle_rank": len(AGE_BANDS) // 2,
        "ethnic_codes": list(ETHNIC_GROUPS),
        "ethnic_groups": list(ETHNIC_GROUPS.values()),
        "comment": "The staff were kind and the wait was short.",
    }


#: The attended appointments from :since to :until, a :share (per 10,000) of them, as
#: the invitees `INVITE` reads. `k` orders them (and their session ids).
APPOINTMENT_INVITEES = """CREATE TEMP TABLE bench_invitees AS
   SELECT a.id AS k, a.id AS appointment_id, a.clinic_id,
     a.patient_id, a.starts_at + interval '2 hours' AS invited_at,
     extract(year FROM (a.starts_at + interval '2 hours') AT TIME ZONE
       'Europe/London') - p.birth_year AS age,
     p.locale, p.sex, p.ethnic_category, p.imd_quintile,
     (ARRAY['sms','sms','sms','sms','sms','sms','whatsapp','voice','web','web'])
       [1 + pg_temp.r(21, a.id) % 10] AS channel,
     pg_temp.r(22, a.id) % 1000 AS r_answer,
     pg_temp.r(23, a.id) % 1000 AS r_fft,
     pg_temp.r(24, a.id) % 1000 AS r_comment
   FROM appointments a JOIN patients p ON p.id = a.patient_id
   WHERE a.status = 'attended' AND a.starts_at >= :since
     AND a.starts_at < :until - interval '2 hours'
     AND pg_temp.r(20, a.id) % 10000 < :share"""

#: The first :cohort patients as the invitees of one month, without an appointment:
#: each invited at a drawn minute of the :span minutes from :since.
COHORT_INVITEES = """CREATE TEMP TABLE bench_invitees AS
   SELECT p.id AS k, CAST(NULL AS integer) AS appointment_id,
     p.clinic_id, p.id AS patient_id,
     :since + (pg_temp.r(30, p.id) % :span) * interval '1 minute' AS invited_at,
     extract(year FROM (:since + (pg_temp.r(30, p.id) % :span) * interval '1 minute')
       AT TIME ZONE 'Europe/London') - p.birth_year AS age,
     p.locale, p.sex, p.ethnic_category, p.imd_quintile,
     (ARRAY['sms','sms','sms','sms','sms','sms','whatsapp','voice','web','web'])
       [1 + pg_temp.r(31, p.id) % 10] AS channel,
     pg_temp.r(32, p.id) % 1000 AS r_answer,
     pg_temp.r(33, p.id) % 1000 AS r_fft,
     pg_temp.r(34, p.id) % 1000 AS r_comment
   FROM patients p WHERE p.id <= :cohort"""


#: Invite the invitees to survey version :version: sessions (numbered on from the last
#: one, in the order of `k`), invitations and responses. Response rates and answers
#: rise with the age band's rank and the deprivation quintile.
INVITE = [
    """CREATE TEMP TABLE bench_invited AS
       SELECT s.*,
         (SELECT coalesce(max(id), 0) FROM survey_sessions)
           + row_number() OVER (ORDER BY s.k) AS session_id,
         s.r_answer < 150 + 60 * s.age_rank + 20 * s.imd_rank AS responded,
         CASE WHEN s.r_fft - 20 * s.age_rank - 10 * s.imd_rank < 450 THEN 'very_good'
              WHEN s.r_fft - 20 * s.age_rank - 10 * s.imd_rank < 800 THEN 'good'
              WHEN s.r_fft < 870 THEN 'neither' WHEN s.r_fft < 920 THEN 'poor'
              WHEN s.r_fft < 960 THEN 'very_poor' ELSE 'dont_know' END AS fft
       FROM (
         SELECT i.*,
           coalesce(ab.band, :unknown) AS age_band,
           coalesce(ab.rank - 1, :middle_rank) AS age_rank,
           CASE WHEN i.sex IN ('F', 'M') THEN i.sex ELSE :unknown END AS sex_level,
           coalesce(eg.grp, :unknown) AS ethnic,
           CASE WHEN i.imd_quintile BETWEEN 1 AND 5 THEN i.imd_quintile::text
                ELSE :unknown END AS imd,
           coalesce(i.imd_quintile, 3) - 1 AS imd_rank,
           to_char(i.invited_at AT TIME ZONE 'Europe/London', 'YYYY-MM') AS period
         FROM bench_invitees i
         LEFT JOIN unnest(CAST(:age_lows AS integer[]), CAST(:age_highs AS integer[]),
                          CAST(:age_bands AS text[])) WITH ORDINALITY
           AS ab(low, high, band, rank)
           ON i.age >= ab.low AND (ab.high IS NULL OR i.age <= ab.high)
         LEFT JOIN unnest(CAST(:ethnic_codes AS text[]), CAST(:ethnic_groups AS text[]))
           AS eg(code, grp) ON eg.code = i.ethnic_category
       ) s""",
    """INSERT INTO survey_sessions (id, clinic_id, patient_id, appointment_id,
         survey_version_id, channel, locale, state, reasks, opened_at, expires_at,
         last_activity_at, closed_at)
       SELECT session_id, clinic_id, patient_id, appointment_id, :version, channel, locale,
         CASE WHEN responded THEN 'completed' ELSE 'expired' END, 0, invited_at,
         invited_at + interval '48 hours',
         invited_at + CASE WHEN responded THEN interval '20 minutes' ELSE interval '0' END,
         invited_at + CASE WHEN responded THEN interval '20 minutes'
                           ELSE interval '48 hours' END
       FROM bench_invited ORDER BY session_id""",
    "SELECT setval('survey_sessions_id_seq', (SELECT max(id) FROM survey_sessions))",
    """INSERT INTO survey_invitations (session_id, survey_version_id, survey_slug,
         organisation_id, clinic_id, period, respondent_key, age_band, sex, ethnic, imd,
         language, channel, invited_at, responded)
       SELECT b.session_id, :version, 'fft', c.organisation_id, b.clinic_id, b.period,
         encode(sha256(convert_to(b.clinic_id || ':' || b.patient_id, 'UTF8')), 'hex'),
         b.age_band, b.sex_level, b.ethnic, b.imd, b.locale, b.channel, b.invited_at,
         b.responded
       FROM bench_invited b JOIN clinics c ON c.id = b.clinic_id
       ORDER BY b.session_id""",
    """INSERT INTO survey_responses (invitation_id, respondent_key, survey_version_id,
         answers, fft, language, channel, responded_at, updated_at)
       SELECT i.id, i.respondent_key, :version,
         json_build_object(
           'fft', json_build_object(
             'status', CASE WHEN b.fft = 'dont_know' THEN 'dont_know' ELSE 'answered' END,
             'value', b.fft, 'language', NULL),
           'comment', CASE WHEN b.r_comment < 300
             THEN json_build_object('status', 'answered', 'value', CAST(:comment AS text),
                                    'language', b.locale)
             ELSE json_build_object('status', 'skipped', 'value', NULL, 'language', NULL)
           END),
         b.fft, i.language, i.channel, i.invited_at + interval '20 minutes',
         i.invited_at + interval '20 minutes'
       FROM survey_invitations i
       JOIN bench_invited b ON b.session_id = i.session_id
       WHERE b.responded ORDER BY i.id""",
    "DROP TABLE bench_invited",
    "DROP TABLE bench_invitees",
]

#: The attended appointments' invitations (see APPOINTMENT_INVITEES).
SURVEYS = [HASH, APPOINTMENT_INVITEES, *INVITE]
#: A month's cohort of patients invited without appointments (see COHORT_INVITEES).
COHORT = [HASH, COHORT_INVITEES, *INVITE]
