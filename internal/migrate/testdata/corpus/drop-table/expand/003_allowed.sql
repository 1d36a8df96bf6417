-- bascule:allow drop-table no release has read audit_2019 since v12; archived to S3
DROP TABLE audit_2019;
