import { MimeModel } from '@jupyterlab/rendermime';
import type { IRenderMime, IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React, { useEffect, useRef } from 'react';

const MARKDOWN = 'text/markdown';

export interface IMarkdownProps {
  rendermime: IRenderMimeRegistry;
  /** Markdown source (untrusted: rendered sanitised). */
  text: string;
  className?: string;
  testId?: string;
}

/**
 * Render Markdown with the application's rendermime registry. While text
 * streams in, renders are serialised: at most one is in flight and the last
 * text always wins.
 */
export function Markdown(props: IMarkdownProps): JSX.Element {
  const { rendermime, text, className, testId } = props;
  const host = useRef<HTMLDivElement>(null);
  const state = useRef<{
    renderer: IRenderMime.IRenderer | null;
    busy: boolean;
    wanted: string | null;
    shown: string | null;
  }>({ renderer: null, busy: false, wanted: null, shown: null });

  useEffect(() => {
    const renderer = rendermime.createRenderer(MARKDOWN);
    state.current.renderer = renderer;
    state.current.shown = null;
    host.current?.appendChild(renderer.node);
    pump();
    return () => {
      state.current.renderer = null;
      renderer.dispose();
    };
  }, [rendermime]);

  useEffect(() => {
    state.current.wanted = text;
    pump();
  }, [text]);

  function pump(): void {
    const s = state.current;
    const renderer = s.renderer;
    if (!renderer || s.busy || s.wanted === null || s.wanted === s.shown) {
      return;
    }
    const next = s.wanted;
    s.busy = true;
    renderer
      .renderModel(
        new MimeModel({ data: { [MARKDOWN]: next }, trusted: false })
      )
      .catch(error => {
        console.warn('jupyter-sleeptime: markdown render failed', error);
        renderer.node.textContent = next;
      })
      .then(() => {
        s.busy = false;
        s.shown = next;
        if (s.renderer === renderer) {
          pump();
        }
      });
  }

  return (
    <div
      ref={host}
      className={`jp-sleeptime-markdown ${className ?? ''}`.trim()}
      data-testid={testId}
    />
  );
}
