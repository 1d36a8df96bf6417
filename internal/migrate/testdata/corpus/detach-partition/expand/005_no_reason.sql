-- bascule:allow detach-partition
ALTER TABLE events DETACH PARTITION events_2020;
