-- Each account's language of the screens, chosen with the switch (中文 / English) in the navigation bar and kept
-- across sign-ins; null: the county's CDM_LANGUAGE.
alter table app_user
    add column language text check (language in ('zh', 'en'));
