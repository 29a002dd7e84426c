import type { Role } from '@parkops/ingest/contract';
import type { IncomingMessage } from 'node:http';

declare global {
  namespace App {
    interface Locals {
      user: { username: string; role: Role } | null;
      lang: 'en' | 'zh-CN';
      theme: 'light' | 'dark' | 'auto';
    }
    interface Platform {
      req?: IncomingMessage;
    }
    interface Error {
      message: string;
      /** an i18n key the error page translates */
      key?: string;
    }
  }
}
export {};
