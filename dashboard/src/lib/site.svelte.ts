/**
 * What the dashboard knows of the site itself: its time zone (times for people are the park's local
 * time, not the phone's) and the language of its messages. Set from the live snapshot; reactive, so
 * every time on screen follows once it arrives.
 */
export const site = $state<{ timezone: string | undefined; language: 'zh-CN' | 'en' | undefined }>({ timezone: undefined, language: undefined });
