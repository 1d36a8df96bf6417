-- bascule:allow drop-view no release has read legacy_report since v7
DROP VIEW legacy_report;
