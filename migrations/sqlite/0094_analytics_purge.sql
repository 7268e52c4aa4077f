-- Old analytics bookkeeping is purged (docs/analytics.md, "Retention"): the rows that make
-- replayed events no-ops after 7 days, the abuse windows once they are over. These indexes
-- let the purge find them without a full scan; the daily aggregates are never purged.
CREATE INDEX analytics_views_viewed ON analytics_views (viewed_at);
CREATE INDEX analytics_profile_views_viewed ON analytics_profile_views (viewed_at);
CREATE INDEX analytics_qualified_windows_counted ON analytics_qualified_windows (counted_at);
CREATE INDEX analytics_view_windows_counted ON analytics_view_windows (counted_at);
CREATE INDEX analytics_profile_view_windows_counted ON analytics_profile_view_windows (counted_at);
