-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();  -- semicolons inside the body do not split it
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER orders_touch BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- +goose Down
-- Never run by bascule: rollback is a traffic switch.
DROP TRIGGER orders_touch ON orders;
DROP FUNCTION touch_updated_at();
