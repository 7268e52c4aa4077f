import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { hasRole, useAuth } from '../state/auth';
import { useLive } from '../state/live';
import { analyticsAvailable } from '../state/analytics';
import { UserAvatar } from './Art';
import { Icon, type IconName } from './Icon';
import { PlayerBar } from './PlayerBar';

type Theme = 'dark' | 'light';

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => (document.documentElement.dataset.theme as Theme) || 'dark');
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', theme === 'dark' ? '#0f1115' : '#f6f5f2');
  }, [theme]);
  return [
    theme,
    () =>
      setTheme((t) => {
        const next = t === 'dark' ? 'light' : 'dark';
        localStorage.setItem('veza-theme', next);
        return next;
      }),
  ];
}

function NavItem({ to, icon, label, short, badge = 0, wideOnly = false }: { to: string; icon: IconName; label: string; short?: string; badge?: number; wideOnly?: boolean }) {
  return (
    <NavLink
      to={to}
      end={to === '/'}
      className={({ isActive }) => `nav-item${isActive ? ' active' : ''}${wideOnly ? ' wide-only' : ''}`}
      aria-label={badge ? `${label}, ${badge} unread` : label}
    >
      <span className="nav-icon">
        <Icon name={icon} />
        {badge > 0 && (
          <span className="nav-badge" data-testid={`${label.toLowerCase()}-badge`} aria-hidden="true">
            {badge > 99 ? '99+' : badge}
          </span>
        )}
      </span>
      <span className={short ? 'nav-label has-short' : 'nav-label'}>{label}</span>
      {short && (
        <span className="nav-label short" aria-hidden="true">
          {short}
        </span>
      )}
    </NavLink>
  );
}

export function Layout() {
  const { user, signOut } = useAuth();
  const { unread } = useLive();
  const [stats, setStats] = useState(false);
  useEffect(() => {
    if (user) void analyticsAvailable().then(setStats);
  }, [user]);
  const [theme, toggleTheme] = useTheme();
  const navigate = useNavigate();
  const location = useLocation();

  // Moves focus to the new page's heading, so screen reader users hear the page change.
  useEffect(() => {
    const h = document.querySelector<HTMLElement>('main h1');
    h?.setAttribute('tabindex', '-1');
    h?.focus({ preventScroll: true });
  }, [location.pathname]);

  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <aside className="sidebar">
        <NavLink to="/" className="brand" aria-label="Veza home">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          <span>veza</span>
        </NavLink>
        <nav aria-label="Main">
          <NavItem to="/" icon="home" label="Discover" />
          <NavItem to="/search" icon="search" label="Search" />
          {user && <NavItem to="/upload" icon="upload" label="Upload" />}
          {user && <NavItem to="/chat" icon="chat" label="Chat" />}
          {user && <NavItem to="/library" icon="music" label="Library" />}
          {user && <NavItem to="/notifications" icon="bell" label="Notifications" short="Alerts" badge={unread} />}
          {user && stats && <NavItem to="/stats" icon="chart" label="Stats" wideOnly />}
          {user && <NavItem to={`/u/${user.username}`} icon="user" label="Profile" wideOnly />}
          {hasRole(user, 'moderator') && <NavItem to="/admin" icon="shield" label="Admin" />}
        </nav>
        <div className="sidebar-foot">
          <button className="icon-btn" onClick={toggleTheme} aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}>
            <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
          </button>
          {user ? (
            <>
              <NavLink to="/settings" className="me" aria-label="Account settings">
                <UserAvatar name={user.username} url={user.avatar?.['128']} />
                <span className="me-name">{user.display_name || user.username}</span>
              </NavLink>
              <button
                className="icon-btn"
                aria-label="Sign out"
                title="Sign out"
                onClick={async () => {
                  await signOut();
                  navigate('/');
                }}
              >
                <Icon name="logout" />
              </button>
            </>
          ) : (
            <div className="auth-links">
              <NavLink to="/login" className="btn ghost small">
                Sign in
              </NavLink>
              <NavLink to="/signup" className="btn small">
                Sign up
              </NavLink>
            </div>
          )}
        </div>
      </aside>
      <main id="main" className="content">
        <Outlet />
      </main>
      <PlayerBar />
    </div>
  );
}
