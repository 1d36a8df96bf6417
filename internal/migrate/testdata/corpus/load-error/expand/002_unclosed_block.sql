-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION noop() RETURNS void LANGUAGE sql AS 'SELECT 1';
