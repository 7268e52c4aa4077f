// The server's recent warn and error log lines (GET /api/v1/admin/errors), as the admin System
// page shows them.
export interface LoggedProblem {
  time: string;
  level: 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

// The line's own fields, without the three shown in columns.
export function problemDetails(p: LoggedProblem): string {
  return Object.entries(p)
    .filter(([k]) => k !== 'time' && k !== 'level' && k !== 'msg')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
