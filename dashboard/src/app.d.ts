import type { Role } from '@parkops/contract';
import type { IncomingMessage } from 'node:http';

declare global {
  namespace App {
    interface Locals {
      /** `kiosk`: a wall screen's view-only session; `mustChangePassword`: pages send them to /account first */
      user: { username: string; role: Role; kiosk?: string; mustChangePassword?: boolean } | null;
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
