import { noteShown } from '../../store/records';
import { Banner, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';
import { TeamSchedule } from './visits';

/**
 * An inspector's view of their teams: the campaign's window, the team's
 * units and each unit's note in whatever state (their own draft too), which
 * the row opens instead of starting a second note.
 */
export function CampaignView() {
  const { t, rt, navigate } = useCtx();
  const teams = useData(() => rt.records.myTeams(), []);
  const names = useData(() => rt.records.userNames(), []);
  return (
    <Screen title={t('myCampaigns')} back="#/home">
      {teams && teams.length === 0 && <Banner kind="info">{t('noTeams')}</Banner>}
      {(teams ?? []).map(({ team, campaign, units }) => (
        <div class="card" key={team.id} data-team={team.name}>
          <h2>{campaign?.name ?? team.name}</h2>
          <p class="muted">{team.name}{team.leader_id === rt.user.id ? ` · ${t('teamLeader')}` : ''}</p>
          {campaign && <p>{t('window', formatDate(campaign.starts_on), formatDate(campaign.ends_on))}</p>}
          {campaign?.content && <p class="small pre">{campaign.content}</p>}
          <TeamSchedule teamId={team.id} />
          <h3>{t('campaignNotes')}</h3>
          <ul class="list">
            {units.map(({ unit, notes }) => {
              const note = notes[0];
              const shown = note ? noteShown(note) : null;
              const handedIn = shown === 'submitted' || shown === 'reviewed';
              return (
                <li class="list-item" key={unit.id} data-unit-row={unit.name}>
                  <div>
                    <strong>{unit.name}</strong>
                    <div class={`small ${handedIn ? 'ok-text' : shown === 'needs_revision' ? 'warn-text' : 'muted'}`}
                      data-note-state={shown ?? 'none'}>
                      {shown ? t(`note_${shown}`) : t('noNoteYet')}
                      {note && note.author_id !== rt.user.id && names?.get(note.author_id) ? ` · ${names.get(note.author_id)}` : ''}
                    </div>
                  </div>
                  {note ? (
                    <button class="btn btn-ghost" data-open-note={note.id} onClick={() => navigate(`#/note/${note.id}`)}>{t('openNoteBtn')}</button>
                  ) : (
                    <button class="btn btn-ghost" onClick={() => navigate(`#/note/new?unit=${unit.id}&campaign=${campaign?.id ?? ''}`)}>{t('writeNote')}</button>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </Screen>
  );
}
