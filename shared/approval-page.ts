// The pages the approval link shows. Opening the link (GET) never answers: it names the run and what
// it will do, with an Approve and a Decline form; only a POST of one of them, with the approver's name,
// answers. Everything shown is escaped; nothing secret is on a page (no task token, no signature).
import type { StoredApproval } from './approval.js';

export interface Page {
  statusCode: number;
  body: string;
}

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function layout(title: string, content: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escape(title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.4}',
    'form{display:inline-block;margin:0 1rem 1rem 0;padding:1rem;border:1px solid #ccc}button{font-size:1rem;padding:.4rem 1rem}</style>',
    `</head><body><h1>${escape(title)}</h1>`,
    content,
    '</body></html>',
  ].join('\n');
}

function runDetails(approval: StoredApproval): string {
  const request = approval.request;
  return [
    `<p>Scenario <strong>${escape(request.scenario)}</strong>, execution <code>${escape(request.executionName)}</code><br><small>${escape(request.executionId)}</small></p>`,
    `<p>Started by ${escape(request.trigger)}${request.reason ? ` (${escape(request.reason)})` : ''}.</p>`,
    '<p>Once approved, the run will:</p>',
    `<ul>${request.actions.map((action) => `<li>${escape(action)}</li>`).join('')}</ul>`,
  ].join('\n');
}

/** An approval waiting for an answer: what the run will do and the two forms. */
export function pendingPage(approval: StoredApproval): Page {
  const expires = new Date(approval.expiresAt * 1000).toISOString();
  const form = (decision: 'approve' | 'decline', label: string, extra: string) =>
    [
      '<form method="post">',
      `<input type="hidden" name="decision" value="${decision}">`,
      '<label>Your name <input name="by" required maxlength="100" autocomplete="name"></label><br>',
      extra,
      `<button type="submit">${label}</button>`,
      '</form>',
    ].join('\n');
  return {
    statusCode: 200,
    body: layout(
      `Approve ${approval.request.scenario}?`,
      [
        runDetails(approval),
        '<p>Declining changes nothing: the run stops before its first change and reports.</p>',
        `<p>No answer by ${escape(expires)}: the run ${approval.onTimeout === 'approve' ? 'goes ahead as if approved' : 'stops as if declined, changing nothing'}.</p>`,
        form('approve', 'Approve: go ahead', ''),
        form('decline', 'Decline: change nothing', '<label>Reason <input name="reason" maxlength="500"></label><br>'),
      ].join('\n'),
    ),
  };
}

/** An approval that has its answer (just given, or before). */
export function answeredPage(approval: StoredApproval, justNow: boolean): Page {
  const what =
    approval.status === 'approved'
      ? 'Approved: the run goes ahead.'
      : approval.status === 'declined'
        ? 'Declined: the run stops; nothing was changed.'
        : (approval.note ?? 'The run no longer waits for this approval.');
  const who = approval.answeredBy ? `<p>${escape(approval.status)} by ${escape(approval.answeredBy)} through the ${escape(approval.answeredVia ?? 'link')} at ${escape(approval.answeredAt ?? '')}.</p>` : '';
  return {
    statusCode: justNow ? 200 : 409,
    body: layout(justNow ? what : `Already answered: ${what}`, [runDetails(approval), who].join('\n')),
  };
}

/** Any refusal: a bad or expired link, an answer that cannot be taken, a bad form. */
export function messagePage(statusCode: number, title: string, message: string): Page {
  return { statusCode, body: layout(title, `<p>${escape(message)}</p>`) };
}
