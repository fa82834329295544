-- The mock SMS gateway: every message it accepted, once per client's message
-- id, as a mobile operator's gateway keeps its delivery records.
CREATE SCHEMA IF NOT EXISTS sms;

CREATE TABLE sms.messages (
    id          bigserial PRIMARY KEY,
    -- The API client that sent it, and its id for the message.
    client      text NOT NULL,
    message_id  text NOT NULL,
    -- E.164.
    phone       text NOT NULL,
    body        text NOT NULL,
    encoding    text NOT NULL CHECK (encoding IN ('GSM-7', 'UCS-2')),
    segments    int NOT NULL CHECK (segments > 0),
    accepted_at timestamptz NOT NULL,
    -- How often the client sent this id; every send after the first is
    -- answered as a duplicate and delivers nothing.
    submissions int NOT NULL DEFAULT 1,
    UNIQUE (client, message_id)
);
