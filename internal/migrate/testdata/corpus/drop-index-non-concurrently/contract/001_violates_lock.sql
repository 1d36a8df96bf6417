DROP INDEX public.users_email_lower_idx;
