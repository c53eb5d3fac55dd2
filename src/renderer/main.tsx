import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
import { connectClient } from './api-client.js';
import { App } from './App.js';

// The CSP forbids eval; tell zod not to try its compiled fast path.
z.config({ jitless: true });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={connectClient()} />
  </StrictMode>,
);
