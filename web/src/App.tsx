import { lazy, Suspense, type ReactNode } from 'react';
import { BrowserRouter, Link, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import type { Role } from './api/types';
import { Empty } from './components/TrackList';
import { Layout } from './components/Layout';
import { Admin } from './pages/Admin';
import { ForgotPassword, ResetPassword, SecondFactor, SignIn, SignUp, VerifyEmail } from './pages/Auth';
import { Chat } from './pages/Chat';
import { Home } from './pages/Home';
import { Library } from './pages/Library';
import { Notifications } from './pages/Notifications';
import { PlaylistPage } from './pages/PlaylistPage';
import { Search } from './pages/Search';

import { Profile } from './pages/Profile';
import { Settings } from './pages/Settings';
import { TrackPage } from './pages/TrackPage';
import { Upload } from './pages/Upload';
import { AuthProvider, hasRole, useAuth } from './state/auth';
import { LiveProvider } from './state/live';
import { PlayerProvider } from './state/player';
import { SocialProvider } from './state/social';

// The stats page carries the charting library: loaded only when opened.
const Stats = lazy(() => import('./pages/Stats').then((m) => ({ default: m.Stats })));

// Pages that need an account send visitors to sign in and back; pages that need a role show
// "no access" (the API refuses them anyway: this only spares a useless screen).
export function RequireAuth({ children, role }: { children: ReactNode; role?: Role }) {
  const { user, ready } = useAuth();
  const location = useLocation();
  if (!ready) return <div className="page" aria-busy="true" />;
  if (!user) return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  if (role && !hasRole(user, role)) {
    return (
      <div className="page">
        <Empty icon="lock" title="No access" level={1}>
          <p className="muted" data-testid="no-access">
            This area is for moderators and admins.
          </p>
          <Link to="/" className="btn ghost">
            Back to Discover
          </Link>
        </Empty>
      </div>
    );
  }
  return <>{children}</>;
}

function NotFound() {
  return (
    <div className="page">
      <Empty icon="search" title="Page not found" level={1}>
        <Link to="/" className="btn ghost">
          Back to Discover
        </Link>
      </Empty>
    </div>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <LiveProvider>
        <SocialProvider>
        <PlayerProvider>
          <Routes>
            <Route path="/login" element={<SignIn />} />
            <Route path="/login/2fa" element={<SecondFactor />} />
            <Route path="/signup" element={<SignUp />} />
            <Route path="/forgot-password" element={<ForgotPassword />} />
            <Route path="/reset-password" element={<ResetPassword />} />
            <Route path="/verify-email" element={<VerifyEmail />} />
            <Route element={<Layout />}>
              <Route index element={<Home />} />
              <Route path="/tracks/:id" element={<TrackPage />} />
              <Route path="/u/:username" element={<Profile />} />
              <Route path="/search" element={<Search />} />
              <Route path="/playlists/:id" element={<PlaylistPage />} />
              <Route path="/stats" element={<RequireAuth><Suspense fallback={<div className="page" aria-busy="true" />}><Stats /></Suspense></RequireAuth>} />
              <Route path="/notifications" element={<RequireAuth><Notifications /></RequireAuth>} />
              <Route path="/upload" element={<RequireAuth><Upload /></RequireAuth>} />
              <Route path="/library" element={<RequireAuth><Library /></RequireAuth>} />
              <Route path="/chat" element={<RequireAuth><Chat /></RequireAuth>} />
              <Route path="/chat/:roomId" element={<RequireAuth><Chat /></RequireAuth>} />
              <Route path="/settings" element={<RequireAuth><Settings /></RequireAuth>} />
              <Route path="/admin" element={<RequireAuth role="moderator"><Admin /></RequireAuth>} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </PlayerProvider>
        </SocialProvider>
        </LiveProvider>
      </AuthProvider>
    </BrowserRouter>
  );
}
