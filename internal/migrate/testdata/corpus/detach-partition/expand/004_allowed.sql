-- bascule:allow detach-partition events_2019 has been empty since the archive job of v31
ALTER TABLE events DETACH PARTITION events_2019;
