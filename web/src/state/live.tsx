// One WebSocket per signed-in tab, opened at sign-in and shared by every screen: the chat uses
// it for rooms, the bell for `notification` frames (docs/websocket.md "Notifications"), which
// reach every socket of a user whatever rooms it joined.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import type { Notification } from '../api/types';
import { useAuth } from './auth';
import { ChatSocket, type ServerFrame } from './chatSocket';

interface LiveState {
  socket: ChatSocket | null;
  unread: number;
  // Newest first; what arrived live since the page loaded (the list page fetches the rest).
  recent: Notification[];
  setUnread(n: number): void;
}

const LiveContext = createContext<LiveState>({ socket: null, unread: 0, recent: [], setUnread: () => undefined });

export function useLive(): LiveState {
  return useContext(LiveContext);
}

// A new live notification bumps the count only when it is unread and not already counted.
export function addLiveNotification(recent: Notification[], n: Notification): { recent: Notification[]; added: boolean } {
  if (recent.some((r) => r.id === n.id)) return { recent, added: false };
  return { recent: [n, ...recent].slice(0, 50), added: n.read_at === null };
}

export function LiveProvider({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const [socket, setSocket] = useState<ChatSocket | null>(null);
  const [unread, setUnreadState] = useState(0);
  const [recent, setRecent] = useState<Notification[]>([]);
  const userId = user?.id;

  const refreshCount = useCallback(async () => {
    try {
      const r = await api<{ unread_count: number }>('/api/v1/notifications/unread-count');
      setUnreadState(r.unread_count);
    } catch {
      /* signed out meanwhile */
    }
  }, []);

  useEffect(() => {
    if (!userId) {
      setSocket(null);
      setUnreadState(0);
      setRecent([]);
      return;
    }
    const s = new ChatSocket();
    // Automated browsers (navigator.webdriver) get a handle for network-drop tests.
    if (navigator.webdriver) (window as unknown as { __vezaChat?: ChatSocket }).__vezaChat = s;
    const off = s.on((frame: ServerFrame) => {
      if (frame.type !== 'notification') return;
      const n = (frame as unknown as { notification: Notification }).notification;
      setRecent((r) => {
        const { recent: next, added } = addLiveNotification(r, n);
        if (added) setUnreadState((u) => u + 1);
        return next;
      });
    });
    // Whatever came while the socket was down is counted again on every (re)connect.
    const offState = s.onState((st) => st === 'open' && void refreshCount());
    const online = () => s.reconnectNow();
    window.addEventListener('online', online);
    s.start();
    setSocket(s);
    return () => {
      window.removeEventListener('online', online);
      off();
      offState();
      s.stop();
    };
  }, [userId, refreshCount]);

  const value = useMemo(() => ({ socket, unread, recent, setUnread: setUnreadState }), [socket, unread, recent]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}
