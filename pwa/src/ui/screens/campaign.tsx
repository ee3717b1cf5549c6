import { Banner, Screen } from '../components';
import { useCtx, useData } from '../context';
import { formatDate } from '../i18n';

/** An inspector's view of their teams: the campaign's window, the team's units and which have a submitted note. */
export function CampaignView() {
  const { t, rt, navigate } = useCtx();
  const teams = useData(() => rt.records.myTeams(), []);
  return (
    <Screen title={t('myCampaigns')} back="#/home">
      {teams && teams.length === 0 && <Banner kind="info">{t('noTeams')}</Banner>}
      {(teams ?? []).map(({ team, campaign, units }) => (
        <div class="card" key={team.id} data-team={team.name}>
          <h2>{campaign?.name ?? team.name}</h2>
          <p class="muted">{team.name}{team.leader_id === rt.user.id ? ` · ${t('teamLeader')}` : ''}</p>
          {campaign && <p>{t('window', formatDate(campaign.starts_on), formatDate(campaign.ends_on))}</p>}
          {campaign?.content && <p class="small pre">{campaign.content}</p>}
          <h3>{t('campaignNotes')}</h3>
          <ul class="list">
            {units.map(({ unit, notes }) => (
              <li class="list-item" key={unit.id} data-unit-row={unit.name}>
                <div>
                  <strong>{unit.name}</strong>
                  <div class={`small ${notes.length ? 'ok-text' : 'muted'}`}>{notes.length ? t('hasNote') : t('noNoteYet')}</div>
                </div>
                {notes.length ? (
                  <button class="btn btn-ghost" onClick={() => navigate(`#/note/${notes[0]!.id}`)}>{t('visitNote')}</button>
                ) : (
                  <button class="btn btn-ghost" onClick={() => navigate(`#/note/new?unit=${unit.id}&campaign=${campaign?.id ?? ''}`)}>{t('writeNote')}</button>
                )}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </Screen>
  );
}
